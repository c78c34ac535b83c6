// Package ssrf keeps tenant-configured URLs from reaching internal addresses.
//
// A tenant who can point a destination at any URL can otherwise make Herald's workers send
// requests to the loopback interface, to private networks, to the cloud provider's metadata
// service (which hands out credentials) or to anything else only the workers can see. Checking
// the URL when the tenant saves it is not enough: a hostname can resolve to a public address
// when it is checked and to 127.0.0.1 when it is dialled (DNS rebinding), and a public server
// can redirect to an internal one. So the check sits in the dialer: Policy.Control runs as
// net.Dialer.Control on the address actually being connected, after DNS resolution, once per
// attempt, so every A and AAAA record the dialer tries is checked, and every connection an
// http.Client opens, redirects included, goes through it.
//
// Policy.Check refuses the special-purpose ranges (loopback, private, link-local, CGNAT, cloud
// metadata, multicast, documentation, benchmarking and their IPv6 equivalents, including IPv6
// addresses that embed a refused IPv4 address) unless an operator lists them in
// NOTIFICATIONS_SSRF_ALLOW, parsed by ParseAllow. A refusal is a *BlockedError naming the
// address and its class.
//
// Use Policy.Client or Policy.Transport for tenant destinations only: the operator's own
// destinations come from its configuration and are trusted, and may well be internal.
package ssrf
