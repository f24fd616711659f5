package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/golang-jwt/jwt/v5"
)

// The fanout scenario's Centrifugo target (-target centrifugo) measures
// Centrifugo (scripts/centrifugo.sh) the way the Taskwire target measures
// Taskwire: -sockets sockets connect with Centrifugo's JSON protocol (a
// connect command with an HS256 JWT for one of -users users, then a
// subscribe to one channel), one publisher sends to the channel through the
// HTTP API (POST /api/publish with X-API-Key) at -rate, every publication
// carrying its sequence number and send time, and the sockets' readers
// count latency, loss, duplicates and order with the Taskwire target's
// accounting (sock.account) against the same table of send times.

// centrifugoFlags are the Centrifugo target's flags.
type centrifugoFlags struct {
	api     string
	wsURL   string
	key     string
	secret  string
	channel string
	payload int
}

// addCentrifugoFlags registers the Centrifugo target's flags on fs.
func addCentrifugoFlags(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
}, f *centrifugoFlags) {
	fs.StringVar(&f.api, "centrifugo-api", "http://127.0.0.1:8000/api", "Centrifugo's HTTP API (-target centrifugo)")
	fs.StringVar(&f.wsURL, "centrifugo-ws", "ws://127.0.0.1:8000/connection/websocket", "Centrifugo's WebSocket endpoint (-target centrifugo)")
	fs.StringVar(&f.key, "centrifugo-key", "twload-api-key", "Centrifugo's http_api.key")
	fs.StringVar(&f.secret, "centrifugo-secret", "twload-hmac-secret", "Centrifugo's client.token.hmac_secret_key, to sign the connection JWTs")
	fs.StringVar(&f.channel, "centrifugo-channel", "twload", "the channel (without a namespace) the sockets subscribe to")
	fs.IntVar(&f.payload, "payload", 280, "size in bytes of the data of each Centrifugo publication: with the push envelope, a socket frame of about 325 bytes, the size of Taskwire's task_created frame")
}

// checkCentrifugoFlags refuses the fanout flags the Centrifugo target does
// not implement.
func (f fanoutFlags) checkCentrifugo() error {
	switch {
	case f.stalled > 0:
		return errors.New("-stalled is not implemented for -target centrifugo")
	case f.v2:
		return errors.New("-v2 is Taskwire's protocol; not with -target centrifugo")
	case f.writeURL != "":
		return errors.New("-write-url is Taskwire's; not with -target centrifugo")
	case f.rate == 0 && f.senders > 1:
		// The tool numbers the publications; concurrent publishers could
		// reach the server out of that order, and the readers would count
		// the server's faithful order as reordering.
		return errors.New("-target centrifugo publishes from one sender (the tool numbers the publications); use -senders 1 or a -rate")
	case f.cf.payload < 0:
		return errors.New("-payload must be 0 or more")
	}
	return nil
}

// centrifugo is the Centrifugo target's state.
type centrifugo struct {
	centrifugoFlags
	tokens []string     // connection JWTs, one per user
	http   *http.Client // the publisher's
	pad    string       // filler that brings each publication's data to -payload bytes
}

// setupCentrifugo signs a connection JWT for each of -users users.
func (r *fanoutRun) setupCentrifugo() error {
	c := &centrifugo{centrifugoFlags: r.cf}
	exp := time.Now().Add(24 * time.Hour).Unix()
	for i := range max(1, r.users) {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": fmt.Sprintf("u%d", i), "exp": exp}).SignedString([]byte(c.secret))
		if err != nil {
			return err
		}
		c.tokens = append(c.tokens, tok)
	}
	// The data is {"seq":N,"sent":T,"pad":"..."}: with N and T at their
	// usual widths, pad brings it to -payload bytes.
	c.pad = strings.Repeat("x", max(0, c.payload-len(`{"seq":12345,"sent":1765000000000000000,"pad":""}`)))
	transport := &http.Transport{MaxIdleConns: 4, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	c.http = &http.Client{Transport: transport, Timeout: 30 * time.Second}
	r.centrifugo = c
	r.baseSeq = 0 // the tool numbers the publications from 1
	return nil
}

// centrifugoHandshake is the frame a socket sends first: connect with the
// token, then subscribe, two commands in one frame (Centrifugo's JSON
// protocol separates them with a newline and runs them in order).
func centrifugoHandshake(token, channel string) []byte {
	return fmt.Appendf(nil, `{"id":1,"connect":{"token":%q,"name":"twload"}}`+"\n"+`{"id":2,"subscribe":{"channel":%q}}`, token, channel)
}

// dialCentrifugo opens the -sockets measured sockets, -dialers at a time,
// each connected and subscribed before it counts as open.
func (r *fanoutRun) dialCentrifugo(ctx context.Context) error {
	r.socks = make([]*sock, r.sockets)
	sem := make(chan struct{}, r.dialers)
	var wg sync.WaitGroup
	var dialErr atomic.Value
	start := time.Now()
	for i := range r.socks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s, err := r.centrifugo.dial(ctx, r.centrifugo.tokens[i%len(r.centrifugo.tokens)])
			if err != nil {
				dialErr.Store(err)
				return
			}
			r.socks[i] = s
		})
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		for _, s := range r.socks {
			if s != nil {
				s.nc.Close()
			}
		}
		return fmt.Errorf("dial: %w (raise ulimit -n for both processes)", err)
	}
	fmt.Fprintf(r.out, "opened %d Centrifugo sockets over %d users, subscribed to %q, in %v\n", r.sockets, len(r.centrifugo.tokens), r.centrifugo.channel, time.Since(start).Round(time.Millisecond))
	return nil
}

// dial opens one socket, connects it with token and subscribes it to the
// channel, returning once the subscribe reply has arrived.
func (c *centrifugo) dial(ctx context.Context, token string) (*sock, error) {
	nc, br, _, err := ws.Dial(ctx, c.wsURL)
	if err != nil {
		return nil, err
	}
	s := &sock{nc: nc, br: br}
	if err := ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewTextFrame(centrifugoHandshake(token, c.channel)))); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	in := s.reader()
	var buf []byte
	for subscribed := false; !subscribed; {
		msg, op, err := readMessage(in, nc, buf)
		if err == nil && op == ws.OpClose {
			err = fmt.Errorf("closed by the server: %s", closeReason(msg))
		}
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("centrifugo handshake: %w", err)
		}
		buf = msg[:0]
		for line := range bytes.SplitSeq(msg, []byte("\n")) {
			if bytes.Contains(line, []byte(`"error":`)) {
				nc.Close()
				return nil, fmt.Errorf("centrifugo handshake: %s", line)
			}
			if bytes.HasPrefix(line, []byte(`{"id":2,`)) {
				subscribed = true
			}
		}
	}
	_ = nc.SetReadDeadline(time.Time{})
	s.br = in // what the handshake read ahead stays in it for read
	return s, nil
}

// reader returns a buffered reader over what the WebSocket handshake read
// ahead and then the connection.
func (s *sock) reader() *bufio.Reader {
	var rd io.Reader = s.nc
	if s.br != nil {
		rd = io.MultiReader(s.br, s.nc)
	}
	return bufio.NewReaderSize(rd, 4096)
}

// closeReason formats a close frame's payload.
func closeReason(msg []byte) string {
	if len(msg) < 2 {
		return "code 1005"
	}
	return fmt.Sprintf("code %d %q", int(msg[0])<<8|int(msg[1]), msg[2:])
}

var (
	cfPushKey = []byte(`{"push":`)
	cfPing    = []byte(`{}`)
)

// readCentrifugo reads s until it fails or closes, as read does for
// Taskwire's sockets. A frame holds one or more newline-separated replies
// and pushes; each publication counts through account. Centrifugo's
// application pings (an empty object) get their pong and count in beats.
func (s *sock) readCentrifugo(ctx context.Context, sentAt []atomic.Int64, delivered *atomic.Int64) {
	in := s.br
	if in == nil {
		in = s.reader()
	}
	buf := make([]byte, 0, 1024)
	for {
		msg, op, err := readMessage(in, s.nc, buf)
		if err != nil || op == ws.OpClose {
			if ctx.Err() == nil {
				s.closed.Store(true)
			}
			return
		}
		buf = msg[:0]
		if op != ws.OpText {
			continue
		}
		now := time.Now().UnixNano()
		for line := range bytes.SplitSeq(msg, []byte("\n")) {
			if seq, ok := centrifugoSeq(line); ok {
				s.account(seq, now, 0, sentAt, delivered)
			} else if bytes.Equal(line, cfPing) {
				// Counted as the idle report's heartbeats: like protocol
				// 2's, an application message each socket is sent.
				s.beats.Add(1)
				// A new slice: masking works in place.
				_ = ws.WriteFrame(s.nc, ws.MaskFrameInPlace(ws.NewTextFrame([]byte("{}"))))
			}
		}
	}
}

// centrifugoSeq returns the seq in the data of a publication push.
func centrifugoSeq(line []byte) (int64, bool) {
	if !bytes.HasPrefix(line, cfPushKey) {
		return 0, false
	}
	i := bytes.Index(line, seqKey)
	if i < 0 {
		return 0, false
	}
	return parseSeq(line[i+len(seqKey):])
}

// readMessage reads one message into buf, joining a fragmented message's
// frames (Centrifugo's WebSocket writer fragments a message larger than
// its write buffer, as a batch of publications can be) and answering the
// WebSocket pings that come between them on nc. A close frame is returned
// as a message of its own.
func readMessage(r io.Reader, nc io.Writer, buf []byte) ([]byte, ws.OpCode, error) {
	buf = buf[:0]
	var op ws.OpCode
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return nil, 0, err
		}
		if h.Length > 16<<20 {
			return nil, 0, fmt.Errorf("a %d-byte frame", h.Length)
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(r, p); err != nil {
				return nil, 0, err
			}
			switch h.OpCode {
			case ws.OpClose:
				return p, ws.OpClose, nil
			case ws.OpPing:
				_ = ws.WriteFrame(nc, ws.MaskFrameInPlace(ws.NewPongFrame(p)))
			}
			continue
		}
		if h.OpCode != ws.OpContinuation {
			op = h.OpCode
		}
		n := len(buf)
		buf = append(buf, make([]byte, h.Length)...)
		if _, err := io.ReadFull(r, buf[n:]); err != nil {
			return nil, 0, err
		}
		if h.Fin {
			return buf, op, nil
		}
	}
}

// publishCentrifugo publishes publication k (its send time already in
// sentAt) to the channel through the HTTP API; an error reply counts as a
// send error.
func (r *fanoutRun) publishCentrifugo(ctx context.Context, k, sentNs int64) {
	c := r.centrifugo
	body := make([]byte, 0, 128+len(c.pad))
	body = append(body, `{"channel":`...)
	body = strconv.AppendQuote(body, c.channel)
	body = append(body, `,"data":{"seq":`...)
	body = strconv.AppendInt(body, k, 10)
	body = append(body, `,"sent":`...)
	body = strconv.AppendInt(body, sentNs, 10)
	body = append(body, `,"pad":"`...)
	body = append(body, c.pad...)
	body = append(body, `"}}`...)
	if err := c.publish(ctx, body); err != nil {
		if r.sendErrs.Add(1) == 1 {
			fmt.Fprintf(r.out, "first publish error: %v\n", err)
		}
	}
}

// publish posts one publish command's body to the HTTP API.
func (c *centrifugo) publish(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(c.api, "/")+"/publish", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", c.key)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"error"`)) {
		return fmt.Errorf("publish: status %d: %s", res.StatusCode, raw)
	}
	return nil
}
