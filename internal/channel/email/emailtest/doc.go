// Package emailtest holds test doubles for the email channel's two transports, for the
// channel's own tests and for end-to-end tests:
//
//   - NewResend serves a fake of Resend's POST /emails on a loopback port. It checks the
//     bearer API key, validates the payload, honours Idempotency-Key and applies Resend's rate
//     limit, answering with Resend's documented errors; it records what it accepted (Emails)
//     and what it refused (Rejected). CheckRequest is its validator, for conformance
//     harnesses, and Accept its success answer.
//   - NewSMTP runs a real SMTP server (github.com/emersion/go-smtp) on a loopback port, in
//     STARTTLS, implicit-TLS or plain mode, with a self-signed certificate made for the test
//     and optional AUTH PLAIN; it can refuse with a chosen reply, and records every message
//     it took, parsed into its text and HTML parts (Messages).
//
// Both stop when the test ends.
package emailtest
