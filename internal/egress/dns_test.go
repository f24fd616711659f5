package egress

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// dnsServer is a minimal authoritative DNS server on a local UDP port: it
// answers A and AAAA questions with the addresses answer gives for the
// name, and nothing else. It is enough for Go's resolver (PreferGo).
type dnsServer struct {
	conn   net.PacketConn
	answer func(name string) []netip.Addr // name is lower case, without the trailing dot
	done   chan struct{}                  // closed when serve returns
}

// startDNS starts a dnsServer that the test stops when it ends.
func startDNS(t testing.TB, answer func(name string) []netip.Addr) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: conn, answer: answer, done: make(chan struct{})}
	go s.serve()
	t.Cleanup(func() {
		conn.Close()
		<-s.done
	})
	return s
}

// resolver returns a resolver that asks only s.
func (s *dnsServer) resolver() *net.Resolver {
	addr := s.conn.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

func (s *dnsServer) serve() {
	defer close(s.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if resp := s.respond(buf[:n]); resp != nil {
			_, _ = s.conn.WriteTo(resp, from) // a lost answer is asked again
		}
	}
}

const (
	typeA    = 1
	typeAAAA = 28
)

// respond builds the answer to one query, or nil for a packet that is not
// one.
func (s *dnsServer) respond(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) < 1 || q[2]&0x80 != 0 {
		return nil
	}
	// The first question: labels, then type and class.
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i:i+l]))
		i += l
	}
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i : i+2])
	question := q[12 : i+4]
	name := strings.ToLower(strings.Join(labels, "."))

	var rdata [][]byte
	for _, a := range s.answer(name) {
		switch {
		case qtype == typeA && a.Is4():
			b := a.As4()
			rdata = append(rdata, b[:])
		case qtype == typeAAAA && a.Is6():
			b := a.As16()
			rdata = append(rdata, b[:])
		}
	}
	resp := make([]byte, 12, 512)
	copy(resp[0:2], q[0:2])                  // id
	resp[2] = 0x80 | 0x04 | q[2]&0x01        // QR, AA, RD as asked
	resp[3] = 0x80                           // RA, NOERROR
	binary.BigEndian.PutUint16(resp[4:6], 1) // one question
	binary.BigEndian.PutUint16(resp[6:8], uint16(len(rdata)))
	resp = append(resp, question...)
	for _, d := range rdata {
		resp = append(resp, 0xc0, 12) // the question's name
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = binary.BigEndian.AppendUint16(resp, 1) // IN
		resp = binary.BigEndian.AppendUint32(resp, 0) // TTL
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(d)))
		resp = append(resp, d...)
	}
	return resp
}

// TestDNSServer checks the test's DNS server against Go's resolver, so the
// tests built on it fail for the right reason.
func TestDNSServer(t *testing.T) {
	dns := startDNS(t, func(name string) []netip.Addr {
		if name == "both.test" {
			return []netip.Addr{netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::7")}
		}
		return nil
	})
	addrs, err := dns.resolver().LookupNetIP(context.Background(), "ip", "both.test")
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.Addr]bool{}
	for _, a := range addrs {
		got[a] = true
	}
	if len(got) != 2 || !got[netip.MustParseAddr("192.0.2.7")] || !got[netip.MustParseAddr("2001:db8::7")] {
		t.Fatalf("both.test resolved to %v", addrs)
	}
	if addrs, err := dns.resolver().LookupNetIP(context.Background(), "ip", "none.test"); err == nil {
		t.Fatalf("none.test resolved to %v", addrs)
	}
}
