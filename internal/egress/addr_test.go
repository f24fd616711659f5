package egress

import (
	"net/netip"
	"testing"
)

func TestPublic(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		// IPv4, public.
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"100.63.255.255", true}, // just below CGNAT
		{"100.128.0.0", true},    // just above CGNAT
		{"172.15.255.255", true}, // just below 172.16/12
		{"172.32.0.0", true},     // just above
		{"169.253.255.255", true},
		{"192.0.1.1", true},
		{"192.167.255.255", true},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		{"223.255.255.255", true},
		{"11.0.0.1", true},
		{"126.255.255.255", true},
		{"128.0.0.1", true},
		// IPv4, not public.
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"169.254.169.254", false}, // cloud metadata
		{"169.254.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.1", false},
		{"192.0.0.170", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		// IPv6, public.
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
		{"2a00:1450:4001:80b::200e", true},
		{"2400:cb00::1", true},
		{"64:ff9b::5db8:d70e", true}, // NAT64 of 93.184.215.14
		{"2002:5db8:d70e::1", true},  // 6to4 of 93.184.215.14
		{"2001:200::1", true},        // just above 2001::/23
		{"3ffe::1", true},
		// IPv6, not public.
		{"::", false},
		{"::1", false},
		{"0:0:0:0:0:0:0:1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:7f00:1", false},
		{"0:0:0:0:0:ffff:7f00:1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:0.0.0.0", false},
		{"::127.0.0.1", false}, // IPv4-compatible
		{"::7f00:1", false},
		{"::8.8.8.8", false},              // IPv4-compatible, deprecated: never public
		{"::ffff:0:7f00:1", false},        // IPv4-translated
		{"::ffff:0:808:808", false},       // IPv4-translated
		{"64:ff9b::7f00:1", false},        // NAT64 of 127.0.0.1
		{"64:ff9b::a00:1", false},         // NAT64 of 10.0.0.1
		{"64:ff9b::a9fe:a9fe", false},     // NAT64 of 169.254.169.254
		{"64:ff9b::127.0.0.1", false},     // the same, dotted
		{"64:ff9b:1::808:808", false},     // local-use NAT64
		{"2002:7f00:1::1", false},         // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", false},       // 6to4 of 192.168.1.1
		{"2002:a9fe:a9fe::", false},       // 6to4 of 169.254.169.254
		{"2002::1", false},                // 6to4 of 0.0.0.0
		{"fc00::1", false},                // ULA
		{"fd00::2", false},                // ULA
		{"fdff:ffff:ffff:ffff::1", false}, // ULA
		{"fe80::1", false},                // link-local
		{"febf::1", false},                // link-local
		{"fec0::1", false},                // site-local, deprecated
		{"ff02::1", false},                // multicast
		{"ff05::1:3", false},              // multicast
		{"100::1", false},                 // discard-only
		{"2001::1", false},                // Teredo
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"2001:2::1", false},                 // benchmarking
		{"2001:10::1", false},                // ORCHID
		{"2001:20::1", false},                // ORCHIDv2
		{"2001:db8::1", false},               // documentation
		{"3fff::1", false},                   // documentation
		{"5f00::1", false},                   // SRv6 SIDs
		{"4000::1", false},                   // unallocated
		{"1000::1", false},                   // unallocated
		{"fe80::1%eth0", false},              // zone
		{"2606:4700:4700::1111%eth0", false}, // a zone is never public
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			if got := public(a); got != tt.public {
				t.Errorf("public(%s) = %v, want %v", tt.addr, got, tt.public)
			}
		})
	}
	if public(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

func TestEndsInNumber(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.1", true},
		{"2130706433", true},
		{"0x7f.1", true},
		{"0x7f000001", true},
		{"0X7F000001", true},
		{"0177.0.0.1", true},
		{"127.0.0.1.", true},
		{"1.2.3.4.5", true},
		{"example.0x", true}, // WHATWG reads "0x" as 0
		{"example.com", false},
		{"example.com.", false},
		{"1.2.3.example", false},
		{"0x7f.example", false},
		{"example.0xg", false},
		{"localhost", false},
		{"a1", false},
		{".", false},
	}
	for _, tt := range tests {
		if got := endsInNumber(tt.host); got != tt.want {
			t.Errorf("endsInNumber(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
