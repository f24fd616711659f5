package egress

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a local HTTP server that counts the connections it accepts
// and the requests it serves.
type receiver struct {
	*httptest.Server
	conns    atomic.Int64
	requests atomic.Int64
}

// newReceiver starts a receiver on addr ("127.0.0.1:0" when empty) that the
// test closes when it ends.
func newReceiver(t *testing.T, addr string, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		h(w, req)
	}))
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		r.Listener.Close()
		r.Listener = l
	}
	r.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.Start()
	t.Cleanup(r.Close)
	return r
}

// port returns the receiver's port.
func (r *receiver) port() string {
	u, _ := url.Parse(r.URL)
	return u.Port()
}

// assertUntouched checks that nothing connected to r: it makes one request
// of its own, and since the server accepts connections in order, a
// connection made before it would have been counted by then.
func (r *receiver) assertUntouched(t *testing.T) {
	t.Helper()
	probe := New(Options{AllowPrivate: true})
	defer probe.Close()
	if _, err := probe.Post(context.Background(), r.URL, nil, nil); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if c, n := r.conns.Load(), r.requests.Load(); c != 1 || n != 1 {
		t.Fatalf("the receiver saw %d connections and %d requests besides the probe, want none", c-1, n-1)
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

// wantRefused fails unless err is an *Error with the message.
func wantRefused(t *testing.T, err error, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *egress.Error %q", err, err, msg)
	}
	if e.Message != msg {
		t.Fatalf("message = %q, want %q", e.Message, msg)
	}
}

func TestLoopbackRefused(t *testing.T) {
	r := newReceiver(t, "", ok)
	c := New(Options{})
	defer c.Close()
	wantRefused(t, c.CheckURL(context.Background(), r.URL), msgNonPublic)
	_, err := c.Post(context.Background(), r.URL, nil, []byte("{}"))
	wantRefused(t, err, msgNonPublic)
	r.assertUntouched(t)
}

func TestIPv6LoopbackRefused(t *testing.T) {
	r := newReceiver(t, "[::1]:0", ok)
	c := New(Options{})
	defer c.Close()
	for _, u := range []string{
		r.URL,
		"http://[0:0:0:0:0:0:0:1]:" + r.port() + "/",
		"http://[::ffff:127.0.0.1]:" + r.port() + "/",
		"http://[0:0:0:0:0:ffff:7f00:1]:" + r.port() + "/",
	} {
		wantRefused(t, c.CheckURL(context.Background(), u), msgNonPublic)
		_, err := c.Post(context.Background(), u, nil, nil)
		wantRefused(t, err, msgNonPublic)
	}
	r.assertUntouched(t)
}

func TestAllowPrivate(t *testing.T) {
	var got struct {
		sync.Mutex
		header http.Header
		body   []byte
		method string
	}
	r := newReceiver(t, "", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		got.Lock()
		got.header, got.body, got.method = req.Header, b, req.Method
		got.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "thanks")
	})
	c := New(Options{AllowPrivate: true})
	defer c.Close()
	if err := c.CheckURL(context.Background(), r.URL+"/hook?x=1"); err != nil {
		t.Fatalf("CheckURL: %v", err)
	}
	h := http.Header{"Webhook-Id": {"msg_1"}, "Content-Type": {"application/json"}}
	resp, err := c.Post(context.Background(), r.URL+"/hook?x=1", h, []byte(`{"a":1}`))
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	if resp.Status != http.StatusAccepted || string(resp.Body) != "thanks" || resp.Duration <= 0 {
		t.Fatalf("response = %d %q %v", resp.Status, resp.Body, resp.Duration)
	}
	got.Lock()
	defer got.Unlock()
	if got.method != http.MethodPost || string(got.body) != `{"a":1}` ||
		got.header.Get("Webhook-Id") != "msg_1" || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("the receiver got %s %q %v", got.method, got.body, got.header)
	}
	// localhost is allowed too.
	if err := c.CheckURL(context.Background(), "http://localhost:"+r.port()+"/"); err != nil {
		t.Fatalf("CheckURL localhost: %v", err)
	}
}

// names is the zone the test DNS server serves; rebound flips rebind.test.
func names(rebound *atomic.Bool) func(string) []netip.Addr {
	return func(name string) []netip.Addr {
		switch name {
		case "public.test":
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}
		case "public6.test":
			return []netip.Addr{netip.MustParseAddr("2606:2800:21f:cb07:6820:80da:af6b:8b2c")}
		case "loopback.test", "hook.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		case "loopback6.test":
			return []netip.Addr{netip.MustParseAddr("::1")}
		case "private.test":
			return []netip.Addr{netip.MustParseAddr("10.1.2.3")}
		case "metadata.test":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}
		case "mapped.test":
			return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}
		case "nat64.test":
			return []netip.Addr{netip.MustParseAddr("64:ff9b::a00:1")}
		case "mixed.test":
			return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("192.168.0.1")}
		case "rebind.test":
			if rebound != nil && rebound.Load() {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
			}
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}
		}
		return nil
	}
}

func TestNameResolvingToLoopbackRefused(t *testing.T) {
	dns := startDNS(t, names(nil))
	r := newReceiver(t, "", ok)
	c := New(Options{Resolver: dns.resolver()})
	defer c.Close()
	u := "http://loopback.test:" + r.port() + "/"
	wantRefused(t, c.CheckURL(context.Background(), u), msgNonPublic)
	_, err := c.Post(context.Background(), u, nil, nil)
	wantRefused(t, err, msgNonPublic)
	r.assertUntouched(t)

	// The same name is delivered to when private addresses are allowed:
	// Post resolves with the injected resolver.
	open := New(Options{AllowPrivate: true, Resolver: dns.resolver()})
	defer open.Close()
	resp, err := open.Post(context.Background(), u, nil, nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("Post with AllowPrivate: %v %v", resp, err)
	}
}

func TestIPv6NameRefusedAtConnect(t *testing.T) {
	dns := startDNS(t, names(nil))
	r := newReceiver(t, "[::1]:0", ok)
	c := New(Options{Resolver: dns.resolver()})
	defer c.Close()
	u := "http://loopback6.test:" + r.port() + "/"
	wantRefused(t, c.CheckURL(context.Background(), u), msgNonPublic)
	_, err := c.Post(context.Background(), u, nil, nil)
	wantRefused(t, err, msgNonPublic)
	r.assertUntouched(t)
}

func TestRebindingRefusedAtConnect(t *testing.T) {
	var rebound atomic.Bool
	dns := startDNS(t, names(&rebound))
	r := newReceiver(t, "", ok)
	c := New(Options{Resolver: dns.resolver()})
	defer c.Close()
	u := "http://rebind.test:" + r.port() + "/"
	if err := c.CheckURL(context.Background(), u); err != nil {
		t.Fatalf("CheckURL while rebind.test is public: %v", err)
	}
	rebound.Store(true)
	_, err := c.Post(context.Background(), u, nil, []byte("{}"))
	wantRefused(t, err, msgNonPublic)
	if !strings.Contains(err.Error(), "127.0.0.1 is not a public address") {
		t.Errorf("the error does not name the refused address for logs: %v", err)
	}
	r.assertUntouched(t)
}

func TestRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, "", ok)
	r := newReceiver(t, "", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL+"/elsewhere", http.StatusFound)
	})
	c := New(Options{AllowPrivate: true})
	defer c.Close()
	resp, err := c.Post(context.Background(), r.URL, nil, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusFound {
		t.Fatalf("status = %d, want 302", resp.Status)
	}
	target.assertUntouched(t)
}

func TestBodyCap(t *testing.T) {
	r := newReceiver(t, "", func(w http.ResponseWriter, _ *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 1<<20))
	})
	c := New(Options{AllowPrivate: true})
	defer c.Close()
	resp, err := c.Post(context.Background(), r.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || len(resp.Body) != 64<<10 {
		t.Fatalf("status %d, %d bytes of body; want 200 and 65536", resp.Status, len(resp.Body))
	}
	small := New(Options{AllowPrivate: true, MaxBody: 10})
	defer small.Close()
	resp, err = small.Post(context.Background(), r.URL, nil, nil)
	if err != nil || string(resp.Body) != "xxxxxxxxxx" {
		t.Fatalf("MaxBody 10: %q %v", resp.Body, err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	r := newReceiver(t, "", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/body" {
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
		}
		select { // longer than the client's timeout
		case <-req.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	c := New(Options{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	defer c.Close()

	_, err := c.Post(context.Background(), r.URL+"/headers", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for headers: err = %v, want a deadline", err)
	}
	resp, err := c.Post(context.Background(), r.URL+"/body", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reading the body: err = %v, want a deadline", err)
	}
	if resp.Status != http.StatusOK || string(resp.Body) != "partial" {
		t.Fatalf("reading the body: response %d %q, want 200 and what was read", resp.Status, resp.Body)
	}
}

func TestCallerCancel(t *testing.T) {
	arrived := make(chan struct{})
	r := newReceiver(t, "", func(_ http.ResponseWriter, req *http.Request) {
		close(arrived)
		<-req.Context().Done()
	})
	c := New(Options{AllowPrivate: true})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Post(ctx, r.URL, nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestProxyFromEnvironmentNotUsed(t *testing.T) {
	proxy := newReceiver(t, "", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "proxy") })
	for _, v := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(v, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	dns := startDNS(t, names(nil))
	r := newReceiver(t, "", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "direct") })
	c := New(Options{AllowPrivate: true, Resolver: dns.resolver()})
	defer c.Close()
	if c.transport.Proxy != nil {
		t.Fatal("the transport has a proxy function")
	}
	resp, err := c.Post(context.Background(), "http://hook.test:"+r.port()+"/", nil, nil)
	if err != nil || string(resp.Body) != "direct" {
		t.Fatalf("Post: %q %v, want the receiver's answer", resp.Body, err)
	}
	proxy.assertUntouched(t)
}

// TestHTTPS checks that TLS connections, HTTP/1.1 and HTTP/2, go through
// the same check at connect.
func TestHTTPS(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2], func(t *testing.T) {
			var proto atomic.Value
			r := &receiver{}
			r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				r.requests.Add(1)
				proto.Store(req.Proto)
				ok(w, req)
			}))
			r.EnableHTTP2 = h2
			r.StartTLS()
			t.Cleanup(r.Close)

			dns := startDNS(t, names(nil))
			c := New(Options{Resolver: dns.resolver()})
			defer c.Close()
			wantRefused(t, c.CheckURL(context.Background(), r.URL), msgNonPublic)
			_, err := c.Post(context.Background(), r.URL, nil, nil)
			wantRefused(t, err, msgNonPublic)
			_, err = c.Post(context.Background(), "https://loopback.test:"+r.port()+"/", nil, nil)
			wantRefused(t, err, msgNonPublic) // at connect

			open := New(Options{AllowPrivate: true})
			defer open.Close()
			// Trust the test's certificate.
			open.transport.TLSClientConfig = r.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			resp, err := open.Post(context.Background(), r.URL, nil, nil)
			if err != nil || resp.Status != http.StatusOK || string(resp.Body) != "ok" {
				t.Fatalf("Post over TLS: %v %q %v", resp.Status, resp.Body, err)
			}
			if n := r.requests.Load(); n != 1 {
				t.Fatalf("the receiver saw %d requests, want 1", n)
			}
			if want := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]; proto.Load() != want {
				t.Fatalf("protocol %v, want %s", proto.Load(), want)
			}
		})
	}
}

// TestConnectionsPerHost holds maxConnsPerHost+2 deliveries to one receiver
// until maxConnsPerHost of them have arrived, then lets them all finish: the
// receiver must never have been given more than maxConnsPerHost connections.
func TestConnectionsPerHost(t *testing.T) {
	arrived := make(chan struct{}, maxConnsPerHost+2)
	release := make(chan struct{})
	r := newReceiver(t, "", func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "ok")
	})
	c := New(Options{AllowPrivate: true})
	defer c.Close()
	var wg sync.WaitGroup
	errs := make(chan error, maxConnsPerHost+2)
	for range maxConnsPerHost + 2 {
		wg.Go(func() {
			_, err := c.Post(context.Background(), r.URL, nil, nil)
			errs <- err
		})
	}
	for range maxConnsPerHost {
		<-arrived
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := r.requests.Load(); n != maxConnsPerHost+2 {
		t.Fatalf("%d requests served, want %d", n, maxConnsPerHost+2)
	}
	if n := r.conns.Load(); n > maxConnsPerHost {
		t.Fatalf("%d connections to one receiver, want at most %d", n, maxConnsPerHost)
	}
}

func TestCheckURL(t *testing.T) {
	dns := startDNS(t, names(nil))
	strict := New(Options{Resolver: dns.resolver()})
	open := New(Options{AllowPrivate: true, Resolver: dns.resolver()})
	tests := []struct {
		url    string
		strict string // the refusal without AllowPrivate, "" when accepted
		open   string // with AllowPrivate
	}{
		{"http://93.184.215.14/hook", "", ""},
		{"https://93.184.215.14:8443/hook?a=b#frag", "", ""},
		{"http://public.test/", "", ""},
		{"http://PUBLIC.TEST./", "", ""},
		{"https://public6.test/", "", ""},
		{"http://[2606:4700:4700::1111]:80/", "", ""},
		{"http://[64:ff9b::5db8:d70e]/", "", ""},
		{"http://no.such.test/", msgUnresolved, ""},

		{"http://127.0.0.1/", msgNonPublic, ""},
		{"http://127.0.0.1:9/", msgNonPublic, ""},
		{"http://10.0.0.1/", msgNonPublic, ""},
		{"http://169.254.169.254/latest/meta-data/", msgNonPublic, ""},
		{"http://0.0.0.0/", msgNonPublic, ""},
		{"http://100.64.0.1/", msgNonPublic, ""},
		{"http://255.255.255.255/", msgNonPublic, ""},
		{"http://[::1]/", msgNonPublic, ""},
		{"http://[::]/", msgNonPublic, ""},
		{"http://[::ffff:127.0.0.1]/", msgNonPublic, ""},
		{"http://[::ffff:7f00:1]/", msgNonPublic, ""},
		{"http://[0:0:0:0:0:ffff:7f00:1]/", msgNonPublic, ""},
		{"http://[64:ff9b::7f00:1]/", msgNonPublic, ""},
		{"http://[2002:7f00:1::1]/", msgNonPublic, ""},
		{"http://[fe80::1%25eth0]/", msgNonPublic, ""},
		{"http://[fd00::2]/", msgNonPublic, ""},
		{"http://localhost/", msgNonPublic, ""},
		{"http://localhost./", msgNonPublic, ""},
		{"http://LocalHost:8080/", msgNonPublic, ""},
		{"http://api.localhost/", msgNonPublic, ""},
		{"http://loopback.test/", msgNonPublic, ""},
		{"http://loopback6.test/", msgNonPublic, ""},
		{"http://private.test/", msgNonPublic, ""},
		{"http://metadata.test/", msgNonPublic, ""},
		{"http://mapped.test/", msgNonPublic, ""},
		{"http://nat64.test/", msgNonPublic, ""},
		{"http://mixed.test/", msgNonPublic, ""},

		// Numeric hosts net/netip does not read but others would.
		{"http://127.1/", msgHost, msgHost},
		{"http://2130706433/", msgHost, msgHost},
		{"http://0x7f.1/", msgHost, msgHost},
		{"http://0x7f000001/", msgHost, msgHost},
		{"http://0177.0.0.1/", msgHost, msgHost},
		{"http://127.0.0.1./", msgHost, msgHost},
		{"http://127.000.000.001/", msgHost, msgHost},
		{"http://1.2.3.4.5/", msgHost, msgHost},
		{"http://[127.0.0.1]/", msgInvalid, msgInvalid},
		{"http://[1.2.3.4]/", msgInvalid, msgInvalid},
		{"http://ex%41mple.com/", msgInvalid, msgInvalid},
		{"http://exämple.com/", msgHost, msgHost},
		{"http://a..b/", msgHost, msgHost},
		{"http://" + strings.Repeat("a", 64) + ".com/", msgHost, msgHost},

		{"", msgScheme, msgScheme},
		{"example.com/hook", msgScheme, msgScheme},
		{"ftp://93.184.215.14/", msgScheme, msgScheme},
		{"file:///etc/passwd", msgScheme, msgScheme},
		{"gopher://127.0.0.1:6379/_INFO", msgScheme, msgScheme},
		{"javascript:alert(1)", msgScheme, msgScheme},
		{"http:93.184.215.14", msgNoHost, msgNoHost},
		{"http:///path", msgNoHost, msgNoHost},
		{"http://:80/", msgNoHost, msgNoHost},
		{"http://user:pass@93.184.215.14/", msgUserinfo, msgUserinfo},
		{"http://user@public.test/", msgUserinfo, msgUserinfo},
		{"http://93.184.215.14:0/", msgPort, msgPort},
		{"http://93.184.215.14:65536/", msgPort, msgPort},
		{"http://93.184.215.14:/", msgPort, msgPort},
		{"http://93.184.215.14:http/", msgInvalid, msgInvalid},
		{"http://[::1/", msgInvalid, msgInvalid},
		{"http://a b/", msgInvalid, msgInvalid},
		{"http://" + strings.Repeat("a", 2048), msgTooLong, msgTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			for _, v := range []struct {
				c    *Client
				want string
			}{{strict, tt.strict}, {open, tt.open}} {
				err := v.c.CheckURL(context.Background(), tt.url)
				if v.want == "" {
					if err != nil {
						t.Fatalf("AllowPrivate=%v: %v, want accepted", v.c.opts.AllowPrivate, err)
					}
					continue
				}
				var e *Error
				if !errors.As(err, &e) || e.Message != v.want {
					t.Fatalf("AllowPrivate=%v: %v, want %q", v.c.opts.AllowPrivate, err, v.want)
				}
			}
		})
	}
}

// TestPostRefusesWhatCheckURLRefuses checks that Post makes the checks that
// need no lookup itself, so a URL stored before a rule changed is refused
// too.
func TestPostRefusesWhatCheckURLRefuses(t *testing.T) {
	c := New(Options{})
	for url, msg := range map[string]string{
		"ftp://93.184.215.14/":            msgScheme,
		"http://user:pass@93.184.215.14/": msgUserinfo,
		"http://127.1/":                   msgHost,
		"http://localhost/":               msgNonPublic,
		"http://169.254.169.254/":         msgNonPublic,
	} {
		_, err := c.Post(context.Background(), url, nil, nil)
		wantRefused(t, err, msg)
	}
}

// BenchmarkPost measures deliveries through a Client to a local receiver,
// eight at a time: the client's own cost, connection reuse included.
func BenchmarkPost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true})
	defer c.Close()
	body := bytes.Repeat([]byte("x"), 512)
	h := http.Header{"Content-Type": {"application/json"}}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Post(context.Background(), srv.URL, h, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
