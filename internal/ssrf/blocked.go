package ssrf

import (
	"fmt"
	"net/netip"
)

// Reason is the class of a refused address. Its values are short, fixed identifiers, so that
// they can be used as a metric label or a log attribute; Describe gives the phrase for people.
type Reason string

// The classes of address that Check refuses. Each one's comment says why it is refused.
const (
	// ReasonUnspecified is 0.0.0.0/8 and ::. Connecting to 0.0.0.0 or :: reaches the local
	// host on Linux, so they are loopback in disguise.
	ReasonUnspecified Reason = "unspecified"
	// ReasonLoopback is 127.0.0.0/8 and ::1: the worker's own host, where admin endpoints,
	// databases and sidecars listen without authentication.
	ReasonLoopback Reason = "loopback"
	// ReasonPrivate is RFC 1918 (10/8, 172.16/12, 192.168/16), the deprecated IPv6 site-local
	// fec0::/10 and the local-use NAT64 prefix 64:ff9b:1::/48: the operator's internal networks.
	ReasonPrivate Reason = "private"
	// ReasonUniqueLocal is IPv6 ULA fc00::/7, the IPv6 counterpart of the private ranges.
	ReasonUniqueLocal Reason = "unique-local"
	// ReasonLinkLocal is 169.254.0.0/16 and fe80::/10: addresses that only make sense on the
	// local link, where cloud platforms put their host services.
	ReasonLinkLocal Reason = "link-local"
	// ReasonMetadata is a cloud metadata service (169.254.169.254 on AWS, GCP, Azure and others,
	// 169.254.170.2 for ECS tasks, 100.100.100.200 on Alibaba Cloud, fd00:ec2::254 on AWS over
	// IPv6). These hand out the instance's credentials to whoever asks, so they are the first
	// target of an SSRF attack; they get their own class so that the refusal says so.
	ReasonMetadata Reason = "metadata"
	// ReasonCGNAT is the shared address space 100.64.0.0/10 (RFC 6598), used inside carrier and
	// cloud networks (Tailscale, Kubernetes overlays), never on the public internet.
	ReasonCGNAT Reason = "cgnat"
	// ReasonMulticast is 224.0.0.0/4 and ff00::/8: group addresses, never a web server.
	ReasonMulticast Reason = "multicast"
	// ReasonBroadcast is 255.255.255.255, the limited broadcast address of the local network.
	ReasonBroadcast Reason = "broadcast"
	// ReasonReserved is the rest of the special-purpose registries: 192.0.0.0/24 (IETF protocol
	// assignments), 192.88.99.0/24 (the deprecated 6to4 relay anycast), 240.0.0.0/4 (reserved
	// for future use), the deprecated IPv4-compatible IPv6 addresses ::/96 and the discard
	// prefix 100::/64. None of them is a public server's address.
	ReasonReserved Reason = "reserved"
	// ReasonDocumentation is 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32:
	// examples in documentation, which some networks use internally.
	ReasonDocumentation Reason = "documentation"
	// ReasonBenchmark is 198.18.0.0/15 and 2001:2::/48, reserved for benchmarking device
	// interconnects, which some networks use internally.
	ReasonBenchmark Reason = "benchmark"
	// ReasonTunnel is Teredo 2001::/32, whose addresses carry an obfuscated IPv4 address that
	// a relay would reach; it cannot be told whether that address is internal, so it is refused.
	ReasonTunnel Reason = "tunnel"
	// ReasonNotIP is a dial to something that is not an IP address and port (a Unix socket, for
	// example): the guard cannot check it, so it refuses it.
	ReasonNotIP Reason = "not-ip"
)

// Describe returns the reason as a noun phrase with its article, for messages:
// "a private address".
func (r Reason) Describe() string {
	switch r {
	case ReasonUnspecified:
		return "an unspecified (this-host) address"
	case ReasonLoopback:
		return "a loopback address"
	case ReasonPrivate:
		return "a private address"
	case ReasonUniqueLocal:
		return "a unique local (private IPv6) address"
	case ReasonLinkLocal:
		return "a link-local address"
	case ReasonMetadata:
		return "a cloud metadata service address"
	case ReasonCGNAT:
		return "a carrier-grade NAT (shared) address"
	case ReasonMulticast:
		return "a multicast address"
	case ReasonBroadcast:
		return "a broadcast address"
	case ReasonReserved:
		return "a reserved address"
	case ReasonDocumentation:
		return "a documentation address"
	case ReasonBenchmark:
		return "a benchmarking address"
	case ReasonTunnel:
		return "a Teredo tunnelling address"
	case ReasonNotIP:
		return "not an IP address"
	default:
		return "a refused address"
	}
}

// BlockedError is the error of a refused address. Dial errors wrap it, so callers find it with
// errors.As through *url.Error and *net.OpError.
type BlockedError struct {
	// Addr is the address that was refused, as dialled.
	Addr netip.Addr
	// Embedded is the IPv4 address that Addr carries and that decided the refusal, when Addr is
	// an IPv4-mapped, NAT64 or 6to4 IPv6 address; the zero Addr otherwise.
	Embedded netip.Addr
	// Reason is the class of the refused address.
	Reason Reason
	// Target is what was dialled when it is not an IP address (ReasonNotIP); empty otherwise.
	Target string
}

// Error names the address, its class and how an operator can permit it, for example
// "refused: 10.0.0.5 is a private address (add it to NOTIFICATIONS_SSRF_ALLOW to permit)".
func (e *BlockedError) Error() string {
	switch {
	case e.Reason == ReasonNotIP:
		return fmt.Sprintf("refused: %q is %s", e.Target, e.Reason.Describe())
	case e.Embedded.IsValid():
		return fmt.Sprintf("refused: %s embeds %s, which is %s (add it to NOTIFICATIONS_SSRF_ALLOW to permit)",
			e.Addr, e.Embedded, e.Reason.Describe())
	default:
		return fmt.Sprintf("refused: %s is %s (add it to NOTIFICATIONS_SSRF_ALLOW to permit)",
			e.Addr, e.Reason.Describe())
	}
}
