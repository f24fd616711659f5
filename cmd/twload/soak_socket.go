package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// disconnect is how a socket leaves at a churn.
type disconnect int

const (
	closeFrame disconnect = iota // close handshake
	closeFIN                     // TCP close, no close frame
	closeRST                     // TCP reset
)

// churner makes share of the open sockets disconnect every period. It
// starts half a reading's interval in, so that readings of /metrics do not
// all fall on a churn.
func churner(ctx context.Context, socks []*wsClient, every time.Duration, share float64) {
	if sleepCtx(ctx, loadEvery/2) != nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var open []*wsClient
		for _, s := range socks {
			if s.up.Load() {
				open = append(open, s)
			}
		}
		rand.Shuffle(len(open), func(i, j int) { open[i], open[j] = open[j], open[i] })
		for i, s := range open[:int(math.Round(float64(len(open))*share))] {
			mode := closeFrame
			switch i % 4 {
			case 1:
				mode = closeFIN
			case 3:
				mode = closeRST
			}
			select {
			case s.churn <- mode:
			default:
			}
		}
	}
}

// wsClient is one socket that the churn disconnects; it resumes with
// since and checks that seqs follow each other.
type wsClient struct {
	path          string // /ws/projects/ID or /ws/notifications
	notifications bool
	user          *soakUser
	churn         chan disconnect
	last          atomic.Int64 // last seq received
	up            atomic.Bool  // connected
}

func newWSClient(path string, u *soakUser) *wsClient {
	return &wsClient{path: path, notifications: path == "/ws/notifications", user: u, churn: make(chan disconnect, 1)}
}

// sockStats are the sockets' figures.
type sockStats struct {
	connects, reconnects           atomic.Int64
	clean, fin, rst, closeErrs     atomic.Int64
	events, notifications, resyncs atomic.Int64
	gaps, dups, undecodable        atomic.Int64

	mu           sync.Mutex     // guards the maps
	dialRefused  map[int]int    // handshake status (0: no response)
	serverCloses map[string]int // close code, or "eof"
}

func (ss *sockStats) count(m map[string]int, k string) {
	ss.mu.Lock()
	m[k]++
	ss.mu.Unlock()
}

// wsDialer opens sockets over their own TCP connections and keeps hold of
// each, so a churn can close it without a close frame.
type wsDialer struct {
	base   string // http(s)://
	wsBase string // ws(s)://
	http   *http.Client
}

type connSlotKey struct{}

func newWSDialer(base string) *wsDialer {
	var d net.Dialer
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if slot, ok := ctx.Value(connSlotKey{}).(*atomic.Pointer[net.Conn]); ok && err == nil {
			slot.Store(&c)
		}
		return c, err
	}}
	return &wsDialer{base: base, wsBase: strings.Replace(base, "http", "ws", 1), http: &http.Client{Transport: tr}}
}

func (d *wsDialer) dial(ctx context.Context, s *wsClient) (*websocket.Conn, net.Conn, int, error) {
	var slot atomic.Pointer[net.Conn]
	u := fmt.Sprintf("%s%s?token=%s&since=%d", d.wsBase, s.path, url.QueryEscape(s.user.token()), s.last.Load())
	dctx, cancel := context.WithTimeout(context.WithValue(ctx, connSlotKey{}, &slot), 10*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: d.http})
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return nil, nil, status, err
	}
	c.SetReadLimit(1 << 20)
	var nc net.Conn
	if p := slot.Load(); p != nil {
		nc = *p
	}
	return c, nc, 0, nil
}

// run keeps the socket connected until ctx ends, then closes it the way
// the churn would.
func (s *wsClient) run(ctx context.Context, d *wsDialer, ss *sockStats) {
	first := true
	for ctx.Err() == nil {
		c, nc, status, err := d.dial(ctx, s)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			ss.mu.Lock()
			ss.dialRefused[status]++
			ss.mu.Unlock()
			if status == http.StatusForbidden {
				s.user.relogin(ctx, &rest{base: d.base, http: d.http})
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		if first {
			ss.connects.Add(1)
			first = false
		} else {
			ss.reconnects.Add(1)
		}
		s.up.Store(true)
		done := make(chan error, 1)
		go func() { done <- s.read(c, ss) }()
		select {
		case mode := <-s.churn:
			s.up.Store(false)
			s.close(c, nc, mode, ss)
			<-done
			sleepCtx(ctx, time.Duration(rand.IntN(500))*time.Millisecond) // events go by meanwhile
		case <-ctx.Done():
			s.up.Store(false)
			s.close(c, nc, disconnect(rand.IntN(3)), ss)
			<-done
			return
		case err := <-done:
			s.up.Store(false)
			c.CloseNow()
			code := "eof"
			if st := websocket.CloseStatus(err); st != -1 {
				code = strconv.Itoa(int(st))
			}
			ss.count(ss.serverCloses, code)
			switch code {
			case "4401": // token expired
				s.user.relogin(ctx, &rest{base: d.base, http: d.http})
			case "4403": // access revoked: do not reconnect
				return
			}
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

func (s *wsClient) close(c *websocket.Conn, nc net.Conn, mode disconnect, ss *sockStats) {
	if nc == nil {
		mode = closeFrame
	}
	switch mode {
	case closeFrame:
		ss.clean.Add(1)
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			ss.closeErrs.Add(1)
		}
	case closeFIN, closeRST:
		if tc, ok := nc.(*net.TCPConn); ok && mode == closeRST {
			tc.SetLinger(0)
			ss.rst.Add(1)
		} else {
			ss.fin.Add(1)
		}
		nc.Close()
		c.CloseNow()
	}
}

// read receives until the connection ends, checking each seq against the
// last one.
func (s *wsClient) read(c *websocket.Conn, ss *sockStats) error {
	for {
		_, msg, err := c.Read(context.Background())
		if err != nil {
			return err
		}
		var m struct {
			Event string `json:"event"`
			Seq   *int64 `json:"seq"`
		}
		if json.Unmarshal(msg, &m) != nil {
			ss.undecodable.Add(1)
			continue
		}
		if m.Seq == nil {
			continue // presence
		}
		seq, last := *m.Seq, s.last.Load()
		switch {
		case m.Event == "caught_up" || m.Event == "heartbeat":
			// Every event up to seq has been sent: a seq past the last one
			// received is a gap.
			if seq > last {
				ss.gaps.Add(seq - last)
				s.last.Store(seq)
			}
			continue
		case m.Event == "resync_required":
			ss.resyncs.Add(1)
			s.last.Store(seq)
			continue
		case seq <= last:
			ss.dups.Add(1)
			continue
		case seq > last+1:
			ss.gaps.Add(seq - last - 1)
		}
		s.last.Store(seq)
		if s.notifications {
			ss.notifications.Add(1)
		} else {
			ss.events.Add(1)
		}
	}
}
