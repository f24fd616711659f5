package egress

import (
	"net/netip"
	"strings"
)

// nonPublic4 lists the IPv4 ranges that are not public unicast destinations.
var nonPublic4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", 0.0.0.0 included (RFC 791)
	netip.MustParsePrefix("10.0.0.0/8"),      // private (RFC 1918)
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space, carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata at 169.254.169.254 (RFC 3927)
	netip.MustParsePrefix("172.16.0.0/12"),   // private (RFC 1918)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated (RFC 7526)
	netip.MustParsePrefix("192.168.0.0/16"),  // private (RFC 1918)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // documentation TEST-NET-2 (RFC 5737)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation TEST-NET-3 (RFC 5737)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, 255.255.255.255 broadcast included
}

var (
	// global6 is the only IPv6 range allocated for global unicast; everything
	// outside it (loopback, unspecified, IPv4-compatible and -translated forms,
	// discard-only, ULA, link-local, site-local, multicast, local-use NAT64,
	// SRv6 SIDs) is not public.
	global6 = netip.MustParsePrefix("2000::/3")
	// nonPublic6 lists the ranges inside 2000::/3 that are not public.
	nonPublic6 = []netip.Prefix{
		netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments: Teredo, benchmarking, ORCHID (RFC 2928)
		netip.MustParsePrefix("2001:db8::/32"), // documentation (RFC 3849)
		netip.MustParsePrefix("3fff::/20"),     // documentation (RFC 9637)
	}
	// nat64 is the well-known NAT64 prefix (RFC 6052): the last 32 bits are
	// the IPv4 address a translator would reach.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// sixToFour is 6to4 (RFC 3056): bits 16 to 48 are the IPv4 address of
	// the site.
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// public reports whether a is a public unicast address: one a webhook may
// be delivered to when private addresses are not allowed. An address with a
// zone is never public.
func public(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap() // ::ffff:a.b.c.d is a.b.c.d
	if a.Is4() {
		for _, p := range nonPublic4 {
			if p.Contains(a) {
				return false
			}
		}
		return true
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return public(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(a):
		return public(netip.AddrFrom4([4]byte(b[2:6])))
	case !global6.Contains(a):
		return false
	}
	for _, p := range nonPublic6 {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// endsInNumber reports whether the last label of host is a number the way
// the WHATWG URL standard sees it (decimal, octal with a leading 0, or hex
// with 0x): browsers and C resolvers (inet_aton) read such a host as an IPv4
// address ("127.1", "2130706433", "0x7f.1"), so it is refused as malformed
// rather than looked up. No top-level domain is numeric.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := "0123456789"
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		last, digits = last[2:], "0123456789abcdefABCDEF"
	}
	for i := 0; i < len(last); i++ {
		if !strings.ContainsRune(digits, rune(last[i])) {
			return false
		}
	}
	return true
}

// validName reports whether host is a syntactically valid ASCII host name:
// dot-separated labels of letters, digits, '-' and '_', each 1 to 63 bytes,
// at most 253 bytes in all, with an optional trailing dot.
func validName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isLocalhost reports whether host is "localhost" or one of its subdomains,
// which resolve to loopback by convention (RFC 6761) whatever DNS says.
func isLocalhost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
