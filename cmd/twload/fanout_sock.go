package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// sock is one measured socket, read frame by frame with no per-message
// allocation, so the tool's own cost stays small next to the server's.
type sock struct {
	nc      net.Conn
	br      *bufio.Reader // data the handshake read ahead, or nil
	last    int64         // initial seq, then owned by read
	lastSeq atomic.Int64
	gaps    int64
	dups    int64
	ooo     int64
	lat     []int32 // microseconds
	closed  atomic.Bool
	beats   atomic.Int64 // protocol 2 heartbeats received
}

var seqKey = []byte(`"seq":`)

// Protocol 2's control messages carry a seq that names no event.
var (
	caughtUpKey  = []byte(`{"event":"caught_up"`)
	heartbeatKey = []byte(`{"event":"heartbeat"`)
)

// read reads s until it fails or closes, counting the events delivered,
// gaps, duplicates and, for events whose send time is in sentAt (indexed by
// seq - baseSeq), their latency. A close while ctx is live marks s closed
// by the server.
func (s *sock) read(ctx context.Context, baseSeq int64, sentAt []atomic.Int64, delivered *atomic.Int64) {
	s.lastSeq.Store(s.last)
	var rd io.Reader = s.nc
	if s.br != nil {
		rd = io.MultiReader(s.br, s.nc)
	}
	in := bufio.NewReaderSize(rd, 4096)
	buf := make([]byte, 0, 1024)
	for {
		msg, op, err := readFrame(in, buf)
		if err != nil || op == ws.OpClose {
			if ctx.Err() == nil {
				s.closed.Store(true)
			}
			return
		}
		buf = msg[:0]
		if op == ws.OpPing {
			_ = ws.WriteFrame(s.nc, ws.MaskFrameInPlace(ws.NewPongFrame(msg)))
			continue
		}
		if op != ws.OpText {
			continue
		}
		if bytes.HasPrefix(msg, heartbeatKey) {
			s.beats.Add(1)
		}
		now := time.Now().UnixNano()
		i := bytes.LastIndex(msg, seqKey)
		if i < 0 || bytes.HasPrefix(msg, caughtUpKey) || bytes.HasPrefix(msg, heartbeatKey) {
			continue // presence, protocol 2's control messages
		}
		seq, ok := parseSeq(msg[i+len(seqKey):])
		if !ok {
			continue
		}
		s.account(seq, now, baseSeq, sentAt, delivered)
	}
}

// parseSeq parses the decimal number b starts with.
func parseSeq(b []byte) (int64, bool) {
	k := 0
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	seq, err := strconv.ParseInt(string(b[:k]), 10, 64)
	return seq, err == nil
}

// account counts the delivery of event seq, received at now (Unix ns): a
// duplicate, a gap before it, and its latency if its send time is in
// sentAt (indexed by seq - baseSeq).
func (s *sock) account(seq, now, baseSeq int64, sentAt []atomic.Int64, delivered *atomic.Int64) {
	delivered.Add(1)
	switch {
	case seq == s.last+1:
	case seq <= s.last:
		s.dups++
		return
	default:
		s.gaps += seq - s.last - 1
		s.ooo++
	}
	s.last = seq
	s.lastSeq.Store(seq)
	if n := seq - baseSeq; n > 0 && int(n) < len(sentAt) {
		if at := sentAt[n].Load(); at != 0 {
			s.lat = append(s.lat, int32((now-at)/1000))
		}
	}
}

// readFrame reads one server frame (unmasked, unfragmented as Taskwire
// sends them) into buf.
func readFrame(r io.Reader, buf []byte) ([]byte, ws.OpCode, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return nil, 0, err
	}
	if int64(cap(buf)) < h.Length {
		buf = make([]byte, h.Length)
	}
	buf = buf[:h.Length]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, 0, err
	}
	return buf, h.OpCode, nil
}

// dialStalled opens n sockets with a 4 KiB receive buffer that nobody
// reads: the server's writes to them soon block.
func dialStalled(ctx context.Context, n int, url func(i int) string) ([]net.Conn, error) {
	d := ws.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	conns := make([]net.Conn, 0, n)
	for i := range n {
		nc, _, _, err := d.Dial(ctx, url(i))
		if err != nil {
			return conns, err
		}
		conns = append(conns, nc)
	}
	return conns, nil
}

// drainStalled reads what each stalled socket was sent and tells how the
// server left it: closed with a close code, hung up, or still open.
func drainStalled(conns []net.Conn) string {
	codes := map[string]int{}
	frames := 0
	for _, nc := range conns {
		_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		in := bufio.NewReader(nc)
		outcome := "still open"
		for {
			msg, op, err := readFrame(in, nil)
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					outcome = "hung up without a close frame"
				}
				break
			}
			if op == ws.OpClose {
				outcome = "closed with code 1005"
				if len(msg) >= 2 {
					outcome = fmt.Sprintf("closed with code %d", int(msg[0])<<8|int(msg[1]))
				}
				break
			}
			frames++
		}
		codes[outcome]++
	}
	var parts []string
	for outcome, n := range codes {
		parts = append(parts, fmt.Sprintf("%d %s", n, outcome))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%s; %d frames had reached them", strings.Join(parts, ", "), frames)
}
