package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzCheckURL checks that CheckURL never panics, refuses only with an
// *Error, and never accepts a URL whose host is not public. Every name
// resolves to loopback here, so only IP literals may be accepted, and each
// accepted one is checked against an independent reading: the standard
// library's predicates on the address and on any IPv4 address an IPv6 form
// carries, and the inet_aton reading C resolvers and browsers give numeric
// hosts.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"http://93.184.215.14/hook",
		"https://[2606:4700:4700::1111]:443/x?y=z#f",
		"http://example.test/",
		"http://127.0.0.1/",
		"http://127.1/",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://0x7f000001/",
		"http://0177.0.0.1/",
		"http://127.0.0.1./",
		"http://localhost./",
		"http://[::1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://[0:0:0:0:0:ffff:7f00:1]/",
		"http://[::7f00:1]/",
		"http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::]/",
		"http://[fe80::1%25lo]/",
		"http://169.254.169.254/latest/meta-data/",
		"http://user:pw@93.184.215.14/",
		"http://[::1%2525]:80/",
		"HTTP://93.184.215.14:65535",
		"http://%31%32%37.0.0.1/",
		"http://1.1.1.1\\@127.0.0.1/",
		"http://93.184.215.14#@127.0.0.1/",
	} {
		f.Add(s)
	}
	dns := startDNS(f, func(string) []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	})
	c := New(Options{Resolver: dns.resolver(), Timeout: 5 * time.Second})
	f.Fuzz(func(t *testing.T, raw string) {
		err := c.CheckURL(context.Background(), raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("CheckURL(%q) = %v (%T), want an *Error", raw, err, err)
			}
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("CheckURL accepted %q, which does not parse: %v", raw, err)
		}
		host := u.Hostname()
		a, err := netip.ParseAddr(host)
		if err != nil {
			t.Fatalf("CheckURL accepted %q, whose host %q resolves to loopback", raw, host)
		}
		if !looksPublic(a) {
			t.Fatalf("CheckURL accepted %q, whose address %s is not public", raw, a)
		}
		if v4, ok := inetAton(host); ok && v4 != a {
			t.Fatalf("CheckURL accepted %q, whose host others read as %s", raw, v4)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.Equal(net.IP(a.AsSlice())) {
			t.Fatalf("CheckURL accepted %q, whose host net.ParseIP reads as %v", raw, ip)
		}
	})
}

// looksPublic is the fuzz target's own reading of "public", written without
// the package's tables: the standard library's predicates, applied to the
// address and to any IPv4 address an IPv6 form carries, plus the IPv4 ranges
// they do not know.
func looksPublic(a netip.Addr) bool {
	if a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() ||
		a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0, b[0] >= 224,
			b[0] == 100 && b[1]&0xc0 == 64, // 100.64.0.0/10
			b[0] == 198 && b[1]&0xfe == 18, // 198.18.0.0/15
			b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2),
			b[0] == 198 && b[1] == 51 && b[2] == 100,
			b[0] == 203 && b[1] == 0 && b[2] == 113:
			return false
		}
		return true
	}
	b := a.As16()
	var embedded netip.Addr
	switch {
	case b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b: // 64:ff9b::/32 and below
		embedded = netip.AddrFrom4([4]byte(b[12:]))
	case b[0] == 0x20 && b[1] == 0x02: // 6to4
		embedded = netip.AddrFrom4([4]byte(b[2:6]))
	case b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8: // documentation
		return false
	case b[0]&0xe0 != 0x20: // outside 2000::/3
		return false
	}
	return !embedded.IsValid() || looksPublic(embedded)
}

// inetAton reads host the way inet_aton(3) and the WHATWG URL standard do:
// one to four parts, each decimal, octal with a leading 0, or hex with 0x,
// the last filling the remaining bytes.
func inetAton(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var nums []uint64
	for _, p := range parts {
		base := 10
		switch {
		case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
			p, base = p[2:], 16
			if p == "" {
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			p, base = p[1:], 8
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil || p == "" || strings.ContainsAny(p, "+-") {
			return netip.Addr{}, false
		}
		nums = append(nums, n)
	}
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func TestInetAton(t *testing.T) {
	for host, want := range map[string]string{
		"127.1":         "127.0.0.1",
		"2130706433":    "127.0.0.1",
		"0x7f.1":        "127.0.0.1",
		"0177.0.0.1":    "127.0.0.1",
		"127.0.0.1.":    "127.0.0.1",
		"10.0x10203":    "10.1.2.3",
		"93.184.215.14": "93.184.215.14",
	} {
		if got, ok := inetAton(host); !ok || got != netip.MustParseAddr(want) {
			t.Errorf("inetAton(%q) = %v %v, want %s", host, got, ok, want)
		}
	}
	for _, host := range []string{"example.com", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "", "1..2"} {
		if got, ok := inetAton(host); ok {
			t.Errorf("inetAton(%q) = %v, want no address", host, got)
		}
	}
}
