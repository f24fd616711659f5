package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// fanout opens sockets in one project room, drives mutations over REST at
// a fixed rate and measures delivery: latency from the send of each HTTP
// request to its event's receipt on every socket, lost, duplicated and
// out-of-order events, deliveries per second, and (with -pid) the server's
// RSS per idle socket.
func fanout(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "Taskwire base URL (sockets)")
	writeURL := fs.String("write-url", "", "base URL the mutations go to (another instance); default -url")
	sockets := fs.Int("sockets", 1000, "sockets to open in the room")
	users := fs.Int("users", 20, "members the sockets are spread over")
	rate := fs.Float64("rate", 20, "mutations per second (one sender; 0: as fast as possible)")
	senders := fs.Int("senders", 1, "concurrent senders when -rate is 0")
	duration := fs.Duration("duration", 20*time.Second, "how long to send mutations")
	pid := fs.Int("pid", 0, "server process id, to read its RSS from /proc")
	dialers := fs.Int("dialers", 64, "sockets opened concurrently")
	stalled := fs.Int("stalled", 0, "extra sockets that never read (4 KiB receive buffer), to see they do not slow the others")
	v2 := fs.Bool("v2", false, "open the sockets with protocol 2 (presence, caught_up, heartbeats) instead of the seed's")
	idle := fs.Duration("idle", 0, "hold the sockets open and idle this long before sending, reporting the server's CPU time (with -pid)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := newClient(*base, 256)
	owner := *c
	writer := &owner
	if *writeURL != "" {
		w := *newClient(*writeURL, 64)
		writer = &w
	}
	run := fmt.Sprintf("f%d", time.Now().UnixNano())
	if _, err := owner.login(ctx, run+"owner"); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var project struct{ ID int64 }
	if err := owner.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "fanout " + run}, http.StatusCreated, &project); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	tokens := []string{owner.token}
	for i := range *users - 1 {
		m := *c
		id, err := m.login(ctx, fmt.Sprintf("%su%d", run, i))
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		if err := owner.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/members", project.ID), map[string]int64{"user_id": id}, http.StatusCreated, nil); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		tokens = append(tokens, m.token)
	}
	var events []json1
	if err := owner.call(ctx, "GET", fmt.Sprintf("/api/v1/projects/%d/events", project.ID), nil, http.StatusOK, &events); err != nil {
		return err
	}
	baseSeq := int64(len(events))

	rssBefore := rss(*pid)
	dialCtx, cancelDial := context.WithCancel(ctx)
	defer cancelDial()
	wsBase := strings.Replace(strings.TrimRight(*base, "/"), "http", "ws", 1)
	socks := make([]*sock, *sockets)
	sem := make(chan struct{}, *dialers)
	var dialWG sync.WaitGroup
	var dialErr atomic.Value
	start := time.Now()
	for i := range socks {
		sem <- struct{}{}
		dialWG.Go(func() {
			defer func() { <-sem }()
			u := fmt.Sprintf("%s/ws/projects/%d?token=%s", wsBase, project.ID, tokens[i%len(tokens)])
			if *v2 {
				u += "&v=2"
			}
			nc, br, _, err := ws.Dial(dialCtx, u)
			if err != nil {
				dialErr.Store(err)
				return
			}
			socks[i] = &sock{nc: nc, br: br, last: baseSeq}
		})
	}
	dialWG.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		return fmt.Errorf("dial: %w (raise ulimit -n for both processes)", err)
	}
	fmt.Fprintf(out, "opened %d sockets over %d users in %v\n", *sockets, len(tokens), time.Since(start).Round(time.Millisecond))
	stalledConns, err := dialStalled(dialCtx, *stalled, func(i int) string {
		return fmt.Sprintf("%s/ws/projects/%d?token=%s", wsBase, project.ID, tokens[i%len(tokens)])
	})
	defer func() {
		for _, nc := range stalledConns {
			nc.Close()
		}
	}()
	if err != nil {
		return fmt.Errorf("dial a stalled socket: %w", err)
	}
	if *stalled > 0 {
		fmt.Fprintf(out, "opened %d more sockets that never read\n", *stalled)
	}
	time.Sleep(2 * time.Second) // let the server settle before reading RSS
	rssIdle := rss(*pid)
	if *pid != 0 {
		fmt.Fprintf(out, "server RSS: %.1f MiB before, %.1f MiB with %d idle sockets: %.1f KiB per socket\n",
			float64(rssBefore)/(1<<20), float64(rssIdle)/(1<<20), *sockets, float64(rssIdle-rssBefore)/1024/float64(*sockets))
	}

	// Readers.
	maxEvents := int(*duration/time.Second+1) * max(1, int(*rate)) * 2
	if *rate == 0 {
		maxEvents = 2_000_000
	}
	sentAt := make([]atomic.Int64, maxEvents+1)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	var readWG sync.WaitGroup
	var delivered atomic.Int64
	for _, s := range socks {
		readWG.Go(func() { s.read(readCtx, baseSeq, sentAt, &delivered) })
	}
	if *idle > 0 {
		measureIdle(out, *idle, *pid, socks)
	}

	// Sender(s).
	sendCtx, stopSend := context.WithTimeout(ctx, *duration)
	defer stopSend()
	var sent atomic.Int64
	var sendErrs atomic.Int64
	sendStart := time.Now()
	send := func(c *client) {
		k := sent.Add(1)
		if int(k) < len(sentAt) {
			sentAt[k].Store(time.Now().UnixNano())
		}
		// The request runs to its end even after the deadline, so every
		// event sent is counted.
		if err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", project.ID), []byte(`{"title":"fanout"}`), http.StatusCreated, nil); err != nil {
			sendErrs.Add(1)
		}
	}
	writer.token = owner.token
	if *rate > 0 {
		tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
		for sendCtx.Err() == nil {
			select {
			case <-tick.C:
				send(writer)
			case <-sendCtx.Done():
			}
		}
		tick.Stop()
	} else {
		var wg sync.WaitGroup
		for range *senders {
			wg.Go(func() {
				for sendCtx.Err() == nil && int(sent.Load()) < maxEvents {
					send(writer)
				}
			})
		}
		wg.Wait()
	}
	sendTime := time.Since(sendStart)
	// With concurrent senders, requests cut off by the deadline may or may
	// not have committed: the log says how many events there are.
	var last []json1
	if err := owner.call(ctx, "GET", fmt.Sprintf("/api/v1/projects/%d/events?since=%d", project.ID, baseSeq), nil, http.StatusOK, &last); err != nil {
		return err
	}
	total := int64(len(last))
	// Wait for every socket to reach the last seq, or give up after 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for _, s := range socks {
			if s.lastSeq.Load() < baseSeq+total && !s.closed.Load() {
				done = false
				break
			}
		}
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(sendStart)
	stopRead()
	for _, s := range socks {
		s.nc.Close()
	}
	readWG.Wait()

	var lat []int32
	var lost, dup, ooo, closed int64
	for _, s := range socks {
		lat = append(lat, s.lat...)
		lost += baseSeq + total - s.lastSeq.Load() + s.gaps
		dup += s.dups
		ooo += s.ooo
		if s.closed.Load() {
			closed++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return time.Duration(lat[min(len(lat)-1, int(float64(len(lat))*p))]) * time.Microsecond
	}
	fmt.Fprintf(out, "fanout: %d sockets, %d events sent in %v (%.1f/s), %d send errors\n", *sockets, total, sendTime.Round(time.Millisecond), float64(total)/sendTime.Seconds(), sendErrs.Load())
	fmt.Fprintf(out, "  deliveries %d (expected %d), %.0f deliveries/s over %v\n", delivered.Load(), total*int64(*sockets), float64(delivered.Load())/elapsed.Seconds(), elapsed.Round(time.Millisecond))
	if *rate > 0 {
		fmt.Fprintf(out, "  latency send->receipt p50 %v  p90 %v  p99 %v  max %v\n", pct(.5), pct(.9), pct(.99), pct(1))
	}
	fmt.Fprintf(out, "  lost %d, duplicated %d, out of order %d, sockets closed by the server %d\n", lost, dup, ooo, closed)
	if *stalled > 0 {
		fmt.Fprintf(out, "  (latency, lost and closed count the %d reading sockets)\n", *sockets)
		fmt.Fprintf(out, "  stalled sockets: %s\n", drainStalled(stalledConns))
	}
	fmt.Fprintf(out, "  load tool: GOMAXPROCS %d\n", runtime.GOMAXPROCS(0))
	return nil
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

// json1 decodes any JSON value; only the length of a list is used.
type json1 = struct{}

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
		j := i + len(seqKey)
		k := j
		for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
			k++
		}
		seq, err := strconv.ParseInt(string(msg[j:k]), 10, 64)
		if err != nil {
			continue
		}
		delivered.Add(1)
		switch {
		case seq == s.last+1:
		case seq <= s.last:
			s.dups++
			continue
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
}

// rss returns a process's resident set size in bytes, or 0.
// measureIdle holds the sockets idle for d (their readers answer pings and
// count heartbeats) and reports what that cost the server.
func measureIdle(out io.Writer, d time.Duration, pid int, socks []*sock) {
	cpu0, rss0 := cpuTime(pid), rss(pid)
	time.Sleep(d)
	cpu, rss1 := cpuTime(pid)-cpu0, rss(pid)
	var beats int64
	for _, s := range socks {
		beats += s.beats.Load()
	}
	perSocket := float64(cpu.Microseconds()) / d.Seconds() / float64(len(socks))
	fmt.Fprintf(out, "idle %v: server CPU %v (%.2f%% of a core, %.2f µs per socket per second), RSS %.1f → %.1f MiB, %d heartbeats received\n",
		d, cpu, 100*cpu.Seconds()/d.Seconds(), perSocket, float64(rss0)/(1<<20), float64(rss1)/(1<<20), beats)
}

// cpuTime reads the user and system CPU time a process has used from
// /proc (in clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: the fields start after its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return n * 1024
			}
		}
	}
	return 0
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
