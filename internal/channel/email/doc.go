// Package email delivers notifications as email, through Resend's HTTP API or through any
// SMTP server. It is one channel, named "email"; the destination's URL picks the transport:
//
//	https://api.resend.com            Resend (https://resend.com/docs/api-reference/emails/send-email).
//	                                  The URL is the API base; Secret is the API key.
//	smtp://[user@]host:port?tls=MODE  SMTP. Secret is the password of user (never put it in
//	                                  the URL). MODE is starttls (the default, except on port
//	                                  465), implicit (the default on port 465) or none.
//
// Every destination needs From, one RFC 5322 address ("Herald <alerts@example.com>"), and To,
// one to 50 addresses (Resend's limit, applied to SMTP too so that a destination can move
// between transports).
//
// Each email has a plain-text and an HTML part rendered by internal/render, and carries the
// notification's delivery id, so that a retried send is recognised as the same email: Resend
// receives it as the Idempotency-Key header (Resend drops a repeat for 24 hours), SMTP
// receivers as the Message-ID (<delivery-id@from-domain>) and the X-Herald-Delivery-Id header.
//
// # Transport security
//
// tls=starttls makes STARTTLS mandatory: a server that does not offer it gets nothing but
// EHLO, never the credentials nor the message, and the outcome is Permanent. tls=implicit
// speaks TLS from the first byte (SMTPS). tls=none speaks clear text and would send the
// password in clear, so a destination with a user and tls=none is refused unless its host is
// a loopback address (a local relay). Certificates are checked against the system roots, or
// against WithTLSConfig's RootCAs.
//
// # Outcomes
//
// Resend: 2xx is Delivered; 429 (rate_limit_exceeded, daily_quota_exceeded) is Retry after
// retry-after or ratelimit-reset, and asks the worker to pause the API key (Outcome.Pause);
// 5xx and 409 concurrent_idempotent_requests are Retry; other 4xx, 409
// invalid_idempotent_request among them, are Permanent with Resend's message in the reason.
// SMTP: 4xx replies, network, TLS and timeout errors are Retry; 5xx replies (535: the
// credentials are wrong) are Permanent. Reasons and logs never hold the API key or password.
//
// The sub-package emailtest holds a Resend API fake and a real SMTP server for tests.
package email
