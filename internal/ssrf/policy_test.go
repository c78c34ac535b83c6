package ssrf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCheck(t *testing.T) {
	t.Parallel()
	allow, err := ParseAllow("10.20.0.0/16, 127.0.0.53, fd12:3456::/32, 169.254.169.254")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr     string
		policy   Policy
		reason   Reason // empty: permitted
		embedded string // the IPv4 address named in the refusal, if any
	}{
		// Public addresses are permitted.
		{addr: "93.184.216.34"},
		{addr: "8.8.8.8"},
		{addr: "2606:2800::1"},
		{addr: "2a00:1450:4001::200e"},
		{addr: "::ffff:93.184.216.34"},
		{addr: "64:ff9b::93.184.216.34"},
		{addr: "2002:5db8:d822::1"}, // 6to4 of 93.184.216.34
		{addr: "100.63.255.255"},    // just below CGNAT
		{addr: "100.128.0.0"},       // just above CGNAT
		{addr: "172.15.255.255"},    // just below 172.16/12
		{addr: "172.32.0.0"},        // just above 172.16/12

		// IPv4 special-purpose ranges.
		{addr: "0.0.0.0", reason: ReasonUnspecified},
		{addr: "0.1.2.3", reason: ReasonUnspecified},
		{addr: "127.0.0.1", reason: ReasonLoopback},
		{addr: "127.255.255.254", reason: ReasonLoopback},
		{addr: "10.0.0.5", reason: ReasonPrivate},
		{addr: "172.16.0.1", reason: ReasonPrivate},
		{addr: "172.31.255.255", reason: ReasonPrivate},
		{addr: "192.168.1.1", reason: ReasonPrivate},
		{addr: "169.254.1.1", reason: ReasonLinkLocal},
		{addr: "169.254.169.254", reason: ReasonMetadata},
		{addr: "169.254.170.2", reason: ReasonMetadata},
		{addr: "100.100.100.200", reason: ReasonMetadata},
		{addr: "100.64.0.1", reason: ReasonCGNAT},
		{addr: "100.127.255.255", reason: ReasonCGNAT},
		{addr: "224.0.0.1", reason: ReasonMulticast},
		{addr: "239.255.255.250", reason: ReasonMulticast},
		{addr: "255.255.255.255", reason: ReasonBroadcast},
		{addr: "240.0.0.1", reason: ReasonReserved},
		{addr: "192.0.0.170", reason: ReasonReserved},
		{addr: "192.0.2.2", reason: ReasonDocumentation},
		{addr: "198.51.100.7", reason: ReasonDocumentation},
		{addr: "203.0.113.9", reason: ReasonDocumentation},
		{addr: "198.18.0.1", reason: ReasonBenchmark},
		{addr: "198.19.255.255", reason: ReasonBenchmark},

		// IPv6 special-purpose ranges.
		{addr: "::", reason: ReasonUnspecified},
		{addr: "::1", reason: ReasonLoopback},
		{addr: "fe80::1", reason: ReasonLinkLocal},
		{addr: "fe80::1%eth0", reason: ReasonLinkLocal},
		{addr: "febf::1", reason: ReasonLinkLocal},
		{addr: "fec0::1", reason: ReasonPrivate},
		{addr: "fc00::1", reason: ReasonUniqueLocal},
		{addr: "fd00::2", reason: ReasonUniqueLocal},
		{addr: "fd00:ec2::254", reason: ReasonMetadata},
		{addr: "ff02::1", reason: ReasonMulticast},
		{addr: "2001:db8::1", reason: ReasonDocumentation},
		{addr: "2001:2::1", reason: ReasonBenchmark},
		{addr: "2001:0:4136:e378:8000:63bf:3fff:fdd2", reason: ReasonTunnel},
		{addr: "100::1", reason: ReasonReserved},
		{addr: "::7f00:1", reason: ReasonReserved}, // IPv4-compatible 127.0.0.1
		{addr: "64:ff9b:1::a00:5", reason: ReasonPrivate},

		// IPv6 addresses carrying a refused IPv4 address are judged by it.
		{addr: "::ffff:127.0.0.1", reason: ReasonLoopback, embedded: "127.0.0.1"},
		{addr: "::ffff:10.0.0.5", reason: ReasonPrivate, embedded: "10.0.0.5"},
		{addr: "::ffff:169.254.169.254", reason: ReasonMetadata, embedded: "169.254.169.254"},
		{addr: "64:ff9b::10.0.0.5", reason: ReasonPrivate, embedded: "10.0.0.5"},
		{addr: "64:ff9b::169.254.169.254", reason: ReasonMetadata, embedded: "169.254.169.254"},
		{addr: "64:ff9b::7f00:1", reason: ReasonLoopback, embedded: "127.0.0.1"},
		{addr: "2002:7f00:1::1", reason: ReasonLoopback, embedded: "127.0.0.1"},
		{addr: "2002:c0a8:101::", reason: ReasonPrivate, embedded: "192.168.1.1"},
		{addr: "2002:a9fe:a9fe::1", reason: ReasonMetadata, embedded: "169.254.169.254"},

		// Allow prefixes permit what they contain, and only that.
		{addr: "10.20.3.4", policy: allow},
		{addr: "10.21.0.1", policy: allow, reason: ReasonPrivate},
		{addr: "127.0.0.53", policy: allow},
		{addr: "127.0.0.1", policy: allow, reason: ReasonLoopback},
		{addr: "169.254.169.254", policy: allow},
		{addr: "169.254.169.253", policy: allow, reason: ReasonLinkLocal},
		{addr: "fd12:3456::1", policy: allow},
		{addr: "fd12:3457::1", policy: allow, reason: ReasonUniqueLocal},
		{addr: "::ffff:10.20.3.4", policy: allow},
		{addr: "64:ff9b::10.20.3.4", policy: allow},
		{addr: "2002:a14:304::1", policy: allow}, // 6to4 of 10.20.3.4
		{addr: "64:ff9b::10.21.0.1", policy: allow, reason: ReasonPrivate, embedded: "10.21.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.addr+"/"+tt.policy.String(), func(t *testing.T) {
			t.Parallel()
			addr := netip.MustParseAddr(tt.addr)
			err := tt.policy.Check(addr)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want permitted", addr, err)
				}
				return
			}
			var blocked *BlockedError
			if !errors.As(err, &blocked) {
				t.Fatalf("Check(%s) = %v, want a *BlockedError", addr, err)
			}
			if blocked.Reason != tt.reason {
				t.Errorf("reason = %q, want %q (%v)", blocked.Reason, tt.reason, err)
			}
			if blocked.Addr != addr.WithZone("") {
				t.Errorf("Addr = %s, want %s", blocked.Addr, addr.WithZone(""))
			}
			var wantEmbedded netip.Addr
			if tt.embedded != "" {
				wantEmbedded = netip.MustParseAddr(tt.embedded)
			}
			if blocked.Embedded != wantEmbedded {
				t.Errorf("Embedded = %v, want %v", blocked.Embedded, wantEmbedded)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.reason.Describe()) || !strings.Contains(msg, "NOTIFICATIONS_SSRF_ALLOW") {
				t.Errorf("message %q should name %q and NOTIFICATIONS_SSRF_ALLOW", msg, tt.reason.Describe())
			}
		})
	}
}

func TestBlockedErrorMessage(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"10.0.0.5":          "refused: 10.0.0.5 is a private address (add it to NOTIFICATIONS_SSRF_ALLOW to permit)",
		"169.254.169.254":   "refused: 169.254.169.254 is a cloud metadata service address (add it to NOTIFICATIONS_SSRF_ALLOW to permit)",
		"64:ff9b::a00:5":    "refused: 64:ff9b::a00:5 embeds 10.0.0.5, which is a private address (add it to NOTIFICATIONS_SSRF_ALLOW to permit)",
		"::ffff:100.64.0.1": "refused: ::ffff:100.64.0.1 embeds 100.64.0.1, which is a carrier-grade NAT (shared) address (add it to NOTIFICATIONS_SSRF_ALLOW to permit)",
	} {
		if got := (Policy{}).Check(netip.MustParseAddr(addr)).Error(); got != want {
			t.Errorf("Check(%s):\n got %s\nwant %s", addr, got, want)
		}
	}
}

// TestEveryReasonDescribed keeps Describe in step with the table of refused ranges.
func TestEveryReasonDescribed(t *testing.T) {
	t.Parallel()
	for _, rr := range refused {
		if d := rr.reason.Describe(); d == Reason("").Describe() {
			t.Errorf("%s: reason %q has no description", rr.prefix, rr.reason)
		}
	}
}

func TestParseAllow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value   string
		want    string // Policy.String of the result
		wantErr string // the entry the error must name
	}{
		{value: "", want: ""},
		{value: " , ", want: ""},
		{value: "10.0.0.0/8", want: "10.0.0.0/8"},
		{value: "10.0.0.0/8,fd00::/8,", want: "10.0.0.0/8,fd00::/8"},
		{value: " 192.168.1.0/24 ,  127.0.0.1 ", want: "192.168.1.0/24,127.0.0.1/32"},
		{value: "10.20.1.5/16", want: "10.20.0.0/16"},
		{value: "::1", want: "::1/128"},
		{value: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{value: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{value: "10.0.0.0/8,10.0.0.0/33", wantErr: `"10.0.0.0/33"`},
		{value: "10.0.0.0/8, internal.example.com", wantErr: `"internal.example.com"`},
		{value: "10.0.0/8", wantErr: `"10.0.0/8"`},
		{value: "fe80::1%eth0", wantErr: `"fe80::1%eth0"`},
		{value: "::ffff:0.0.0.0/8", wantErr: `"::ffff:0.0.0.0/8"`},
	}
	for _, tt := range tests {
		p, err := ParseAllow(tt.value)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAllow(%q) = %v, want an error naming %s", tt.value, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllow(%q): %v", tt.value, err)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("ParseAllow(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}
