package ssrf

import "net/netip"

// refusedRange is one special-purpose range and its class.
type refusedRange struct {
	prefix netip.Prefix
	reason Reason
}

// refused lists the ranges Check refuses, most specific first: the first match decides the
// class, so that 169.254.169.254 is reported as metadata rather than link-local. The reasons
// for refusing each class are on the Reason constants. Sources: the IANA IPv4 and IPv6
// Special-Purpose Address Registries (RFC 6890).
var refused = func() []refusedRange {
	r := func(cidr string, reason Reason) refusedRange {
		return refusedRange{prefix: netip.MustParsePrefix(cidr), reason: reason}
	}
	return []refusedRange{
		// Cloud metadata services, before the link-local, CGNAT and ULA ranges they sit in.
		r("169.254.169.254/32", ReasonMetadata), // AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
		r("169.254.170.2/32", ReasonMetadata),   // AWS ECS task metadata and credentials
		r("100.100.100.200/32", ReasonMetadata), // Alibaba Cloud
		r("fd00:ec2::254/128", ReasonMetadata),  // AWS over IPv6

		// IPv4.
		r("0.0.0.0/8", ReasonUnspecified),
		r("10.0.0.0/8", ReasonPrivate),
		r("100.64.0.0/10", ReasonCGNAT),
		r("127.0.0.0/8", ReasonLoopback),
		r("169.254.0.0/16", ReasonLinkLocal),
		r("172.16.0.0/12", ReasonPrivate),
		r("192.0.0.0/24", ReasonReserved),
		r("192.0.2.0/24", ReasonDocumentation),
		r("192.88.99.0/24", ReasonReserved),
		r("192.168.0.0/16", ReasonPrivate),
		r("198.18.0.0/15", ReasonBenchmark),
		r("198.51.100.0/24", ReasonDocumentation),
		r("203.0.113.0/24", ReasonDocumentation),
		r("224.0.0.0/4", ReasonMulticast),
		r("255.255.255.255/32", ReasonBroadcast),
		r("240.0.0.0/4", ReasonReserved),

		// IPv6. IPv4-mapped, NAT64 64:ff9b::/96 and 6to4 2002::/16 never get here: Check
		// judges them by the IPv4 address they carry.
		r("::/128", ReasonUnspecified),
		r("::1/128", ReasonLoopback),
		r("::/96", ReasonReserved), // deprecated IPv4-compatible addresses
		r("64:ff9b:1::/48", ReasonPrivate),
		r("100::/64", ReasonReserved),
		r("2001:2::/48", ReasonBenchmark),
		r("2001:db8::/32", ReasonDocumentation),
		r("2001::/32", ReasonTunnel),
		r("fc00::/7", ReasonUniqueLocal),
		r("fe80::/10", ReasonLinkLocal),
		r("fec0::/10", ReasonPrivate),
		r("ff00::/8", ReasonMulticast),
	}
}()

// classify returns the class of addr and true if it falls in a refused range. addr is unmapped
// and has no zone.
func classify(addr netip.Addr) (Reason, bool) {
	for _, rr := range refused {
		if rr.prefix.Contains(addr) {
			return rr.reason, true
		}
	}
	return "", false
}
