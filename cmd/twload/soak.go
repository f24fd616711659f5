package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Soak thresholds. A server that leaks nothing comes back to its baseline
// once its clients are gone, within these margins:
const (
	// goroutineSlackPct and goroutineSlackAbs: the larger of the two is
	// allowed above the baseline (timers, pools and idle workers that start
	// on first use).
	goroutineSlackPct = 0.10
	goroutineSlackAbs = 20
	// fdSlack: database connections the pool keeps open after load and the
	// WAL files of SQLite.
	fdSlack = 10
	// heapSlack: GOGC=100 lets the heap reach twice its live data before a
	// collection, and the settle window may end before the next forced GC
	// (every 2 min when idle), so the lowest reading in the settle window
	// may stand at twice the baseline; plus caches that fill on first use.
	heapSlack = 16 << 20
	// rssSlack: the Go runtime returns freed memory to the OS lazily (the
	// scavenger), so RSS may stay at max(2×baseline, baseline+rssSlack).
	rssSlack = 64 << 20
	// perUserSockets: sockets held by one user, below the server's default
	// WS_MAX_PER_USER (20) with room for a reconnect that races the server
	// seeing the previous socket close.
	perUserSockets = 12
)

// Sampling of the server's /metrics.
const (
	baselineSettle  = 5 * time.Second  // quiet time after setup
	baselineSamples = 3                // readings; the baseline is their median
	baselineEvery   = 2 * time.Second  // between baseline readings
	loadEvery       = 10 * time.Second // during load
	settleEvery     = 5 * time.Second  // after load
)

// soakFlags are the soak scenario's flags.
type soakFlags struct {
	base        string
	duration    time.Duration
	writers     int
	sockets     int
	notifyShare float64
	rate        float64
	churnEvery  time.Duration
	churn       float64
	settle      time.Duration
	metricsURL  string
}

// parseSoakFlags parses the soak scenario's command line and checks it.
func parseSoakFlags(args []string) (soakFlags, error) {
	var f soakFlags
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&f.base, "url", "http://127.0.0.1:8080", "Taskwire base URL")
	fs.DurationVar(&f.duration, "duration", 30*time.Minute, "load time")
	fs.IntVar(&f.writers, "writers", 8, "users writing over REST in closed loops, each owning a project")
	fs.IntVar(&f.sockets, "sockets", 100, "sockets kept open (project and notification sockets)")
	fs.Float64Var(&f.notifyShare, "notify", 0.2, "share of -sockets on /ws/notifications; the rest on project rooms")
	fs.Float64Var(&f.rate, "rate", 100, "REST requests per second over all writers (0: as fast as they go)")
	fs.DurationVar(&f.churnEvery, "churn-every", 10*time.Second, "how often a share of the sockets disconnect and resume with since")
	fs.Float64Var(&f.churn, "churn", 0.2, "share of the open sockets that disconnect at each churn: half with a close frame, half by closing the TCP connection (FIN or RST)")
	fs.DurationVar(&f.settle, "settle", 60*time.Second, "wait after load before the final reading")
	fs.StringVar(&f.metricsURL, "metrics-url", "", "the server's Prometheus endpoint (default -url + /metrics)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.writers < 2 || f.sockets < 0 || f.duration <= 0 || f.churnEvery <= 0 {
		return f, errors.New("soak: want -writers ≥ 2, -sockets ≥ 0, -duration and -churn-every > 0")
	}
	if f.metricsURL == "" {
		f.metricsURL = strings.TrimRight(f.base, "/") + "/metrics"
	}
	return f, nil
}

// soakRun is the state of one soak, carried from the setup through the
// baseline, the load and the settling to the report.
type soakRun struct {
	soakFlags
	out     io.Writer
	stats   *reqStats
	api     *rest
	w       *soakWorld
	scraper *http.Client // reads /metrics on a connection of its own each time
	series  *series
	ss      *sockStats
	dialer  *wsDialer
	behind  int // sockets behind their stream's last seq at the end of the load
	down    int // sockets not connected at the end of the load
}

// soak drives mixed REST writes and WebSocket churn for -duration, then
// closes every client and checks that the server returns to its baseline:
// goroutines, open descriptors, open sockets, heap and RSS. It also checks
// every request's status (no 5xx, no status the request did not expect)
// and every socket's seq (no gap, no duplicate, each socket caught up at
// the end). It returns an error when any check fails.
func soak(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseSoakFlags(args)
	if err != nil {
		return err
	}
	if f.sockets > 180 {
		fmt.Fprintf(out, "note: %d sockets from one address: start the server with WS_MAX_PER_ADDR above that (default 200)\n", f.sockets)
	}
	r := newSoakRun(f, out)
	if r.w, err = soakSetup(ctx, r.api, f.writers, f.sockets, f.notifyShare, out); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.stats.reset() // setup requests are not part of the figures
	if err := r.measureBaseline(ctx); err != nil {
		return err
	}
	if err := r.runLoad(ctx); err != nil {
		return err
	}
	if err := r.measureSettling(ctx); err != nil {
		return err
	}
	if failed := r.report(); len(failed) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(failed, "; "))
	}
	return nil
}

// newSoakRun returns a soak's clients and counters, before the setup.
func newSoakRun(f soakFlags, out io.Writer) *soakRun {
	stats := &reqStats{ops: map[string]*opStats{}}
	base := strings.TrimRight(f.base, "/")
	return &soakRun{
		soakFlags: f,
		out:       out,
		stats:     stats,
		api: &rest{base: base, stats: stats,
			http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: f.writers * 2, IdleConnTimeout: time.Minute}}},
		scraper: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		ss:      &sockStats{dialRefused: map[int]int{}, serverCloses: map[string]int{}},
		dialer:  newWSDialer(base),
	}
}

// measureBaseline starts the series and, after a quiet time, reads
// /metrics baselineSamples times.
func (r *soakRun) measureBaseline(ctx context.Context) error {
	// Baseline, with no connection of ours open but the scrape's own.
	r.api.http.CloseIdleConnections()
	r.series = &series{start: time.Now()}
	if err := sleepCtx(ctx, baselineSettle); err != nil {
		return err
	}
	for i := range baselineSamples {
		if i > 0 {
			if err := sleepCtx(ctx, baselineEvery); err != nil {
				return err
			}
		}
		m, err := scrape(ctx, r.scraper, r.metricsURL)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		r.series.add("baseline", m, 0, r.stats)
	}
	return nil
}

// runLoad runs the sockets, the writers, the churn and the sampling of
// /metrics for -duration, then checks that every socket reaches the end of
// its stream (into r.behind and r.down) and closes them all.
func (r *soakRun) runLoad(ctx context.Context) error {
	loadCtx, endLoad := context.WithTimeout(ctx, r.duration)
	defer endLoad()
	sockCtx, closeSockets := context.WithCancel(ctx)
	defer closeSockets()
	var sockWG sync.WaitGroup
	for _, s := range r.w.socks {
		sockWG.Go(func() { s.run(sockCtx, r.dialer, r.ss) })
	}
	tick, stopTick := rateTicker(r.rate)
	defer stopTick()
	var writeWG, samplerWG sync.WaitGroup
	for i, wr := range r.w.writers {
		wr.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		writeWG.Go(func() { wr.run(ctx, loadCtx, r.api, r.w, tick) })
	}
	samplerWG.Go(func() { r.sampleLoad(ctx, loadCtx) })
	samplerWG.Go(func() { churner(loadCtx, r.w.socks, r.churnEvery, r.churn) })
	fmt.Fprintf(r.out, "soak: load for %v: %d writers (%s), %d sockets (%d project, %d notification) over %d users, churn %.0f%% every %v\n",
		r.duration, len(r.w.writers), rateText(r.rate), len(r.w.socks), r.w.projectSocks, len(r.w.socks)-r.w.projectSocks, r.w.socketUsers, r.churn*100, r.churnEvery)
	<-loadCtx.Done()
	writeWG.Wait()
	samplerWG.Wait()
	if ctx.Err() != nil {
		closeSockets()
		sockWG.Wait()
		return ctx.Err()
	}

	// Every socket must reach the end of its stream, then all close.
	r.behind, r.down = r.w.tailCheck(ctx, r.api, 15*time.Second)
	closeSockets()
	sockWG.Wait()
	r.api.http.CloseIdleConnections()
	r.dialer.http.CloseIdleConnections()
	return nil
}

// rateTicker returns the ticks that pace the writers at rate requests per
// second, or nil (no pacing) for a rate of 0, and the function that stops
// them.
func rateTicker(rate float64) (<-chan time.Time, func()) {
	if rate <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	return t.C, t.Stop
}

// sampleLoad reads /metrics every loadEvery until loadCtx ends.
func (r *soakRun) sampleLoad(ctx, loadCtx context.Context) {
	t := time.NewTicker(loadEvery)
	defer t.Stop()
	for {
		select {
		case <-loadCtx.Done():
			return
		case <-t.C:
			m, err := scrape(ctx, r.scraper, r.metricsURL)
			if err != nil {
				r.series.scrapeErrs.Add(1)
				continue
			}
			r.series.add("load", m, r.w.up(), r.stats)
		}
	}
}

// measureSettling reads /metrics every settleEvery for -settle after the
// load.
func (r *soakRun) measureSettling(ctx context.Context) error {
	for elapsed := time.Duration(0); elapsed < r.settle; elapsed += settleEvery {
		if err := sleepCtx(ctx, min(settleEvery, r.settle-elapsed)); err != nil {
			return err
		}
		m, err := scrape(ctx, r.scraper, r.metricsURL)
		if err != nil {
			r.series.scrapeErrs.Add(1)
			continue
		}
		r.series.add("settle", m, 0, r.stats)
	}
	return nil
}

// rateText describes the writers' pacing for the load line.
func rateText(rate float64) string {
	if rate <= 0 {
		return "closed loop"
	}
	return fmt.Sprintf("%g req/s", rate)
}

// sleepCtx sleeps for d, or returns ctx's error if it ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
