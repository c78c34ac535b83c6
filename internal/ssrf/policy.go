package ssrf

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy decides which addresses a tenant's destination may be dialled at. The zero Policy
// refuses every special-purpose range and permits public addresses. A Policy is read-only once
// built and safe for concurrent use.
type Policy struct {
	// Allow lists the prefixes that are permitted even though they fall in a refused range,
	// from NOTIFICATIONS_SSRF_ALLOW. IPv4 prefixes are held unmapped.
	Allow []netip.Prefix
}

// ParseAllow parses NOTIFICATIONS_SSRF_ALLOW: a comma-separated list of CIDRs, such as
// "10.20.0.0/16, fd00:1::/64". A bare address stands for itself alone (a /32 or /128), and host
// bits are cleared (10.20.1.5/16 means 10.20.0.0/16), as net.ParseCIDR does. Blank entries are
// skipped so that an empty value or a trailing comma is not an error. The error names the bad
// entry.
func ParseAllow(value string) (Policy, error) {
	var p Policy
	for _, entry := range strings.Split(value, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		prefix, err := parseAllowEntry(entry)
		if err != nil {
			return Policy{}, fmt.Errorf("NOTIFICATIONS_SSRF_ALLOW: entry %q is not a CIDR such as 10.0.0.0/8 or fd00::/8: %w", entry, err)
		}
		p.Allow = append(p.Allow, prefix)
	}
	return p, nil
}

// parseAllowEntry parses one CIDR or bare address. An IPv4-mapped IPv6 prefix
// (::ffff:10.0.0.0/104) is turned into its IPv4 prefix, because Check compares IPv4 addresses
// unmapped.
func parseAllowEntry(entry string) (netip.Prefix, error) {
	if !strings.Contains(entry, "/") {
		addr, err := netip.ParseAddr(entry)
		if err != nil {
			return netip.Prefix{}, err
		}
		if addr.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("zone %q not allowed", addr.Zone())
		}
		addr = addr.Unmap()
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	prefix, err := netip.ParsePrefix(entry)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := prefix.Addr(); a.Is4In6() {
		if prefix.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix shorter than /96")
		}
		prefix = netip.PrefixFrom(a.Unmap(), prefix.Bits()-96)
	}
	return prefix.Masked(), nil
}

// String returns the allowed prefixes in NOTIFICATIONS_SSRF_ALLOW form, for logging the
// effective configuration.
func (p Policy) String() string {
	s := make([]string, len(p.Allow))
	for i, prefix := range p.Allow {
		s[i] = prefix.String()
	}
	return strings.Join(s, ",")
}

// Check returns nil if addr may be dialled, or a *BlockedError naming its class. An address
// inside an Allow prefix is always permitted. IPv6 addresses that carry an IPv4 address
// (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4
// address, because that is where the packets end up; so a NAT64 address of a public server is
// permitted and one of 10.0.0.5 is not, unless 10.0.0.5 is allowed.
func (p Policy) Check(addr netip.Addr) error {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return &BlockedError{Addr: addr, Reason: ReasonNotIP, Target: addr.String()}
	}
	if p.allowed(addr) {
		return nil
	}
	if embedded, ok := embeddedIPv4(addr); ok {
		if err := p.Check(embedded); err != nil {
			blocked := err.(*BlockedError)
			return &BlockedError{Addr: addr, Embedded: embedded, Reason: blocked.Reason}
		}
		return nil
	}
	if reason, refused := classify(addr); refused {
		return &BlockedError{Addr: addr, Reason: reason}
	}
	return nil
}

// allowed reports whether addr falls in one of the operator's Allow prefixes.
func (p Policy) allowed(addr netip.Addr) bool {
	for _, prefix := range p.Allow {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// Prefixes of IPv6 addresses that carry an IPv4 address.
var (
	// nat64 is the well-known NAT64 prefix (RFC 6052): a translator turns 64:ff9b::a.b.c.d into
	// a connection to a.b.c.d.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// sixToFour is 6to4 (RFC 3056): 2002:AABB:CCDD::/48 is routed to the IPv4 host AA.BB.CC.DD.
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 returns the IPv4 address that an IPv4-mapped, NAT64 or 6to4 address reaches.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	switch {
	case addr.Is4In6():
		return addr.Unmap(), true
	case nat64.Contains(addr):
		b := addr.As16()
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		b := addr.As16()
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
