package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// fanoutFlags are the fanout scenario's flags.
type fanoutFlags struct {
	base     string
	writeURL string
	sockets  int
	users    int
	rate     float64
	senders  int
	duration time.Duration
	pid      int
	dialers  int
	stalled  int
	v2       bool
	idle     time.Duration
	target   string // taskwire or centrifugo
	cf       centrifugoFlags
}

// parseFanoutFlags parses the fanout scenario's command line.
func parseFanoutFlags(args []string) (fanoutFlags, error) {
	var f fanoutFlags
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.StringVar(&f.base, "url", "http://127.0.0.1:8080", "Taskwire base URL (sockets)")
	fs.StringVar(&f.writeURL, "write-url", "", "base URL the mutations go to (another instance); default -url")
	fs.IntVar(&f.sockets, "sockets", 1000, "sockets to open in the room")
	fs.IntVar(&f.users, "users", 20, "members the sockets are spread over")
	fs.Float64Var(&f.rate, "rate", 20, "mutations per second (one sender; 0: as fast as possible)")
	fs.IntVar(&f.senders, "senders", 1, "concurrent senders when -rate is 0")
	fs.DurationVar(&f.duration, "duration", 20*time.Second, "how long to send mutations")
	fs.IntVar(&f.pid, "pid", 0, "server process id, to read its RSS from /proc")
	fs.IntVar(&f.dialers, "dialers", 64, "sockets opened concurrently")
	fs.IntVar(&f.stalled, "stalled", 0, "extra sockets that never read (4 KiB receive buffer), to see they do not slow the others")
	fs.BoolVar(&f.v2, "v2", false, "open the sockets with protocol 2 (presence, caught_up, heartbeats) instead of the seed's")
	fs.DurationVar(&f.idle, "idle", 0, "hold the sockets open and idle this long before sending, reporting the server's CPU time (with -pid)")
	fs.StringVar(&f.target, "target", "taskwire", "the server measured: taskwire, or centrifugo (scripts/centrifugo.sh; see the -centrifugo-* flags)")
	addCentrifugoFlags(fs, &f.cf)
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch f.target {
	case "taskwire":
	case "centrifugo":
		return f, f.checkCentrifugo()
	default:
		return f, fmt.Errorf("-target %q: want taskwire or centrifugo", f.target)
	}
	return f, nil
}

// fanoutRun is the state of one fanout scenario, carried from the setup
// through the sockets and the sending to the report.
type fanoutRun struct {
	fanoutFlags
	out    io.Writer
	wsBase string // -url with a ws scheme

	owner   *client  // owns the project and reads its log
	writer  *client  // sends the mutations: owner, or a client of -write-url
	project int64    // the room
	tokens  []string // the owner's and the members'; sockets take them in turn
	baseSeq int64    // events in the project's log before the sockets open

	socks        []*sock
	stalledConns []net.Conn
	readWG       sync.WaitGroup // the socks' readers

	centrifugo *centrifugo // with -target centrifugo, else nil

	maxEvents int            // events sentAt has room for
	sentAt    []atomic.Int64 // send time (Unix ns) of each event, by seq - baseSeq
	sent      atomic.Int64
	sendErrs  atomic.Int64
	delivered atomic.Int64 // events received, over all sockets
}

// fanout opens sockets in one project room, drives mutations over REST at
// a fixed rate and measures delivery: latency from the send of each HTTP
// request to its event's receipt on every socket, lost, duplicated and
// out-of-order events, deliveries per second, and (with -pid) the server's
// RSS per idle socket.
func fanout(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseFanoutFlags(args)
	if err != nil {
		return err
	}
	r := &fanoutRun{fanoutFlags: f, out: out, wsBase: strings.Replace(strings.TrimRight(f.base, "/"), "http", "ws", 1)}
	setup, dial := r.setup, r.dialSockets
	if f.target == "centrifugo" {
		setup, dial = func(context.Context) error { return r.setupCentrifugo() }, r.dialCentrifugo
	}
	if err := setup(ctx); err != nil {
		return err
	}
	rssBefore := rss(r.pid)
	dialCtx, cancelDial := context.WithCancel(ctx)
	defer cancelDial()
	if err := dial(dialCtx); err != nil {
		return err
	}
	defer r.closeStalled()
	if err := r.dialStalledSockets(dialCtx); err != nil {
		return err
	}
	r.reportIdleRSS(rssBefore)

	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	r.startReaders(readCtx)
	if r.idle > 0 {
		measureIdle(out, r.idle, r.pid, r.socks)
	}
	sendStart, sendTime := r.sendMutations(ctx)
	total, err := r.countEvents(ctx)
	if err != nil {
		return err
	}
	r.waitForLastSeq(r.baseSeq + total)
	elapsed := time.Since(sendStart)
	stopRead()
	r.closeSockets()
	r.report(total, sendTime, elapsed)
	return nil
}

// setup signs up the owner and -users - 1 members, creates the owner's
// project with the members in it and notes how many events its log holds
// already.
func (r *fanoutRun) setup(ctx context.Context) error {
	c := newClient(r.base, 256)
	owner := *c
	r.owner, r.writer = &owner, &owner
	if r.writeURL != "" {
		r.writer = newClient(r.writeURL, 64)
	}
	name := fmt.Sprintf("f%d", time.Now().UnixNano())
	if _, err := r.owner.login(ctx, name+"owner"); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var project struct{ ID int64 }
	if err := r.owner.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "fanout " + name}, http.StatusCreated, &project); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.project = project.ID
	r.tokens = []string{r.owner.token}
	for i := range r.users - 1 {
		m := *c
		id, err := m.login(ctx, fmt.Sprintf("%su%d", name, i))
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		if err := r.owner.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/members", r.project), map[string]int64{"user_id": id}, http.StatusCreated, nil); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		r.tokens = append(r.tokens, m.token)
	}
	var events []json1
	if err := r.owner.call(ctx, "GET", fmt.Sprintf("/api/v1/projects/%d/events", r.project), nil, http.StatusOK, &events); err != nil {
		return err
	}
	r.baseSeq = int64(len(events))
	return nil
}

// json1 decodes any JSON value; only the length of a list is used.
type json1 = struct{}

// roomURL is the URL of the i-th socket into the project's room, with the
// token of the member it falls to.
func (r *fanoutRun) roomURL(i int) string {
	return fmt.Sprintf("%s/ws/projects/%d?token=%s", r.wsBase, r.project, r.tokens[i%len(r.tokens)])
}

// dialSockets opens the -sockets measured sockets, -dialers at a time.
func (r *fanoutRun) dialSockets(ctx context.Context) error {
	r.socks = make([]*sock, r.sockets)
	sem := make(chan struct{}, r.dialers)
	var wg sync.WaitGroup
	var dialErr atomic.Value
	start := time.Now()
	for i := range r.socks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			u := r.roomURL(i)
			if r.v2 {
				u += "&v=2"
			}
			nc, br, _, err := ws.Dial(ctx, u)
			if err != nil {
				dialErr.Store(err)
				return
			}
			r.socks[i] = &sock{nc: nc, br: br, last: r.baseSeq}
		})
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		return fmt.Errorf("dial: %w (raise ulimit -n for both processes)", err)
	}
	fmt.Fprintf(r.out, "opened %d sockets over %d users in %v\n", r.sockets, len(r.tokens), time.Since(start).Round(time.Millisecond))
	return nil
}

// dialStalledSockets opens the -stalled sockets that never read. Those
// opened before a failure are kept in r.stalledConns, for closeStalled.
func (r *fanoutRun) dialStalledSockets(ctx context.Context) error {
	var err error
	r.stalledConns, err = dialStalled(ctx, r.stalled, r.roomURL)
	if err != nil {
		return fmt.Errorf("dial a stalled socket: %w", err)
	}
	if r.stalled > 0 {
		fmt.Fprintf(r.out, "opened %d more sockets that never read\n", r.stalled)
	}
	return nil
}

// closeStalled closes the stalled sockets.
func (r *fanoutRun) closeStalled() {
	for _, nc := range r.stalledConns {
		nc.Close()
	}
}

// reportIdleRSS lets the server settle with the sockets open and, with
// -pid, prints its RSS per idle socket over before, its RSS before the
// sockets opened.
func (r *fanoutRun) reportIdleRSS(before int64) {
	time.Sleep(2 * time.Second) // let the server settle before reading RSS
	idle := rss(r.pid)
	if r.pid != 0 {
		fmt.Fprintf(r.out, "server RSS: %.1f MiB before, %.1f MiB with %d idle sockets: %.1f KiB per socket\n",
			float64(before)/(1<<20), float64(idle)/(1<<20), r.sockets, float64(idle-before)/1024/float64(r.sockets))
	}
}

// startReaders sizes sentAt for the events the senders may send and starts
// a reader on every socket until ctx ends.
func (r *fanoutRun) startReaders(ctx context.Context) {
	r.maxEvents = int(r.duration/time.Second+1) * max(1, int(r.rate)) * 2
	if r.rate == 0 {
		r.maxEvents = 2_000_000
	}
	r.sentAt = make([]atomic.Int64, r.maxEvents+1)
	for _, s := range r.socks {
		if r.centrifugo != nil {
			r.readWG.Go(func() { s.readCentrifugo(ctx, r.sentAt, &r.delivered) })
			continue
		}
		r.readWG.Go(func() { s.read(ctx, r.baseSeq, r.sentAt, &r.delivered) })
	}
}

// closeSockets closes the measured sockets and waits for their readers,
// whose context the caller has ended first so that they do not count the
// close as the server's.
func (r *fanoutRun) closeSockets() {
	for _, s := range r.socks {
		s.nc.Close()
	}
	r.readWG.Wait()
}

// sendMutations creates tasks for -duration, at -rate from one sender or,
// with -rate 0, as fast as -senders go, and returns when it started and how
// long it sent.
func (r *fanoutRun) sendMutations(ctx context.Context) (start time.Time, took time.Duration) {
	sendCtx, stopSend := context.WithTimeout(ctx, r.duration)
	defer stopSend()
	start = time.Now()
	if r.centrifugo == nil {
		r.writer.token = r.owner.token
	}
	if r.rate > 0 {
		r.sendAtRate(ctx, sendCtx)
	} else {
		r.sendFlatOut(ctx, sendCtx)
	}
	return start, time.Since(start)
}

// sendAtRate sends one mutation per tick of -rate until sendCtx ends.
func (r *fanoutRun) sendAtRate(ctx, sendCtx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / r.rate))
	defer tick.Stop()
	for sendCtx.Err() == nil {
		select {
		case <-tick.C:
			r.sendOne(ctx)
		case <-sendCtx.Done():
		}
	}
}

// sendFlatOut runs -senders closed loops until sendCtx ends or sentAt is
// full.
func (r *fanoutRun) sendFlatOut(ctx, sendCtx context.Context) {
	var wg sync.WaitGroup
	for range r.senders {
		wg.Go(func() {
			for sendCtx.Err() == nil && int(r.sent.Load()) < r.maxEvents {
				r.sendOne(ctx)
			}
		})
	}
	wg.Wait()
}

// sendOne creates a task, noting its send time under its ordinal. The
// request runs under ctx, not the sending deadline, so that it runs to its
// end and every event sent is counted.
func (r *fanoutRun) sendOne(ctx context.Context) {
	k := r.sent.Add(1)
	now := time.Now().UnixNano()
	if int(k) < len(r.sentAt) {
		r.sentAt[k].Store(now)
	}
	if r.centrifugo != nil {
		r.publishCentrifugo(ctx, k, now)
		return
	}
	if err := r.writer.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", r.project), []byte(`{"title":"fanout"}`), http.StatusCreated, nil); err != nil {
		r.sendErrs.Add(1)
	}
}

// countEvents returns how many events the project's log gained since the
// sockets opened. With concurrent senders, requests cut off by the deadline
// may or may not have committed: the log says how many events there are.
func (r *fanoutRun) countEvents(ctx context.Context) (int64, error) {
	if r.centrifugo != nil {
		// Centrifugo keeps no log to ask: the publications sent, whether
		// or not the API accepted them (a refused one counts as lost and
		// as a send error).
		return r.sent.Load(), nil
	}
	var last []json1
	if err := r.owner.call(ctx, "GET", fmt.Sprintf("/api/v1/projects/%d/events?since=%d", r.project, r.baseSeq), nil, http.StatusOK, &last); err != nil {
		return 0, err
	}
	return int64(len(last)), nil
}

// waitForLastSeq waits for every socket to reach seq last (or be closed by
// the server), or gives up after 10 s.
func (r *fanoutRun) waitForLastSeq(last int64) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !r.allReached(last) {
		time.Sleep(20 * time.Millisecond)
	}
}

// allReached tells whether every socket still open has received seq last.
func (r *fanoutRun) allReached(last int64) bool {
	for _, s := range r.socks {
		if s.lastSeq.Load() < last && !s.closed.Load() {
			return false
		}
	}
	return true
}
