package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// soak drives mixed REST writes and WebSocket churn for -duration, then
// closes every client and checks that the server returns to its baseline:
// goroutines, open descriptors, open sockets, heap and RSS. It also checks
// every request's status (no 5xx, no status the request did not expect)
// and every socket's seq (no gap, no duplicate, each socket caught up at
// the end). It returns an error when any check fails.
func soak(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "Taskwire base URL")
	duration := fs.Duration("duration", 30*time.Minute, "load time")
	writers := fs.Int("writers", 8, "users writing over REST in closed loops, each owning a project")
	sockets := fs.Int("sockets", 100, "sockets kept open (project and notification sockets)")
	notifyShare := fs.Float64("notify", 0.2, "share of -sockets on /ws/notifications; the rest on project rooms")
	rate := fs.Float64("rate", 100, "REST requests per second over all writers (0: as fast as they go)")
	churnEvery := fs.Duration("churn-every", 10*time.Second, "how often a share of the sockets disconnect and resume with since")
	churn := fs.Float64("churn", 0.2, "share of the open sockets that disconnect at each churn: half with a close frame, half by closing the TCP connection (FIN or RST)")
	settle := fs.Duration("settle", 60*time.Second, "wait after load before the final reading")
	metricsURL := fs.String("metrics-url", "", "the server's Prometheus endpoint (default -url + /metrics)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *writers < 2 || *sockets < 0 || *duration <= 0 || *churnEvery <= 0 {
		return errors.New("soak: want -writers ≥ 2, -sockets ≥ 0, -duration and -churn-every > 0")
	}
	if *metricsURL == "" {
		*metricsURL = strings.TrimRight(*base, "/") + "/metrics"
	}
	if *sockets > 180 {
		fmt.Fprintf(out, "note: %d sockets from one address: start the server with WS_MAX_PER_ADDR above that (default 200)\n", *sockets)
	}

	stats := &reqStats{ops: map[string]*opStats{}}
	api := &rest{base: strings.TrimRight(*base, "/"), stats: stats,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *writers * 2, IdleConnTimeout: time.Minute}}}
	w, err := soakSetup(ctx, api, *writers, *sockets, *notifyShare, out)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	stats.reset() // setup requests are not part of the figures

	// Baseline, with no connection of ours open but the scrape's own.
	scraper := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	api.http.CloseIdleConnections()
	series := &series{start: time.Now()}
	if err := sleepCtx(ctx, baselineSettle); err != nil {
		return err
	}
	for i := range baselineSamples {
		if i > 0 {
			if err := sleepCtx(ctx, baselineEvery); err != nil {
				return err
			}
		}
		m, err := scrape(ctx, scraper, *metricsURL)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		series.add("baseline", m, 0, stats)
	}

	// Load.
	loadCtx, endLoad := context.WithTimeout(ctx, *duration)
	defer endLoad()
	sockCtx, closeSockets := context.WithCancel(ctx)
	defer closeSockets()
	ss := &sockStats{dialRefused: map[int]int{}, serverCloses: map[string]int{}}
	dialer := newWSDialer(api.base)
	var sockWG sync.WaitGroup
	for _, s := range w.socks {
		sockWG.Go(func() { s.run(sockCtx, dialer, ss) })
	}
	var tick <-chan time.Time
	if *rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / *rate))
		defer t.Stop()
		tick = t.C
	}
	var writeWG sync.WaitGroup
	for i, wr := range w.writers {
		wr.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
		writeWG.Go(func() { wr.run(ctx, loadCtx, api, w, tick) })
	}
	var samplerWG sync.WaitGroup
	samplerWG.Go(func() {
		t := time.NewTicker(loadEvery)
		defer t.Stop()
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
				m, err := scrape(ctx, scraper, *metricsURL)
				if err != nil {
					series.scrapeErrs.Add(1)
					continue
				}
				series.add("load", m, w.up(), stats)
			}
		}
	})
	samplerWG.Go(func() { churner(loadCtx, w.socks, *churnEvery, *churn) })
	fmt.Fprintf(out, "soak: load for %v: %d writers (%s), %d sockets (%d project, %d notification) over %d users, churn %.0f%% every %v\n",
		*duration, len(w.writers), rateText(*rate), len(w.socks), w.projectSocks, len(w.socks)-w.projectSocks, w.socketUsers, *churn*100, *churnEvery)
	<-loadCtx.Done()
	writeWG.Wait()
	samplerWG.Wait()
	if ctx.Err() != nil {
		closeSockets()
		sockWG.Wait()
		return ctx.Err()
	}

	// Every socket must reach the end of its stream, then all close.
	behind, down := w.tailCheck(ctx, api, 15*time.Second)
	closeSockets()
	sockWG.Wait()
	api.http.CloseIdleConnections()
	dialer.http.CloseIdleConnections()

	// Settle.
	for elapsed := time.Duration(0); elapsed < *settle; elapsed += settleEvery {
		if err := sleepCtx(ctx, min(settleEvery, *settle-elapsed)); err != nil {
			return err
		}
		m, err := scrape(ctx, scraper, *metricsURL)
		if err != nil {
			series.scrapeErrs.Add(1)
			continue
		}
		series.add("settle", m, 0, stats)
	}
	failed := soakReport(out, series, stats, ss, w, behind, down, *duration, *settle)
	if len(failed) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(failed, "; "))
	}
	return nil
}

func rateText(rate float64) string {
	if rate <= 0 {
		return "closed loop"
	}
	return fmt.Sprintf("%g req/s", rate)
}

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

// soakUser is a signed-up user; its token may be renewed while sockets and
// a writer use it.
type soakUser struct {
	id   int64
	name string
	tok  atomic.Pointer[string]
}

func (u *soakUser) token() string { return *u.tok.Load() }

// relogin replaces an expired token.
func (u *soakUser) relogin(ctx context.Context, api *rest) error {
	c := client{base: api.base, http: api.http}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, "POST", "/api/v1/auth/login", url.Values{"username": {u.name}, "password": {"load-password"}}, http.StatusOK, &tok); err != nil {
		return err
	}
	u.tok.Store(&tok.AccessToken)
	return nil
}

// soakWorld is what setup created.
type soakWorld struct {
	writers      []*writer
	members      []int64 // users in every project (writers and watchers)
	projects     []int64
	socks        []*wsClient
	projectSocks int
	socketUsers  int
}

func (w *soakWorld) up() int {
	n := 0
	for _, s := range w.socks {
		if s.up.Load() {
			n++
		}
	}
	return n
}

// soakSetup signs up the writers (each owning a project every writer is a
// member of), one guest per writer (added to and removed from the
// writer's project during load) and, when the writers cannot hold the
// project sockets within perUserSockets each, watchers who only hold
// sockets.
func soakSetup(ctx context.Context, api *rest, writers, sockets int, notifyShare float64, out io.Writer) (*soakWorld, error) {
	nNotify := int(math.Round(float64(sockets) * min(max(notifyShare, 0), 1)))
	nProject := sockets - nNotify
	watchers := 0
	for ceilDiv(nProject, writers+watchers)+ceilDiv(nNotify, 2*writers+watchers) > perUserSockets {
		watchers++
	}
	run := fmt.Sprintf("s%d", time.Now().UnixNano())
	signup := func(name string) (*soakUser, error) {
		c := client{base: api.base, http: api.http}
		id, err := c.login(ctx, name)
		if err != nil {
			if strings.Contains(err.Error(), "status 429") {
				err = fmt.Errorf("%w (start the server with RATE_LIMIT_AUTH=100000/minute)", err)
			}
			return nil, err
		}
		u := &soakUser{id: id, name: name}
		u.tok.Store(&c.token)
		return u, nil
	}
	w := &soakWorld{}
	var owners, guests []*soakUser
	for i := range writers {
		u, err := signup(fmt.Sprintf("%sw%d", run, i))
		if err != nil {
			return nil, err
		}
		g, err := signup(fmt.Sprintf("%sg%d", run, i))
		if err != nil {
			return nil, err
		}
		owners, guests = append(owners, u), append(guests, g)
		w.writers = append(w.writers, &writer{u: u, guest: g, cursor: map[int64]int64{}})
	}
	for i := range watchers {
		u, err := signup(fmt.Sprintf("%sv%d", run, i))
		if err != nil {
			return nil, err
		}
		owners = append(owners, u)
	}
	for _, u := range owners {
		w.members = append(w.members, u.id)
	}
	for i, wr := range w.writers {
		var p struct{ ID int64 }
		if _, err := api.want(ctx, wr.u, "setup", "POST", "/api/v1/projects/", map[string]string{"name": "soak " + wr.u.name}, nil, &p, 201); err != nil {
			return nil, err
		}
		wr.own = p.ID
		w.projects = append(w.projects, p.ID)
		for j, m := range owners {
			if j == i {
				continue
			}
			if _, err := api.want(ctx, wr.u, "setup", "POST", fmt.Sprintf("/api/v1/projects/%d/members", p.ID), map[string]int64{"user_id": m.id}, nil, nil, 201); err != nil {
				return nil, err
			}
		}
	}
	for i := range nProject {
		w.socks = append(w.socks, newWSClient(fmt.Sprintf("/ws/projects/%d", w.projects[i%len(w.projects)]), owners[i%len(owners)]))
	}
	everyone := slices.Concat(owners, guests)
	for i := range nNotify {
		w.socks = append(w.socks, newWSClient("/ws/notifications", everyone[i%len(everyone)]))
	}
	w.projectSocks = nProject
	holders := map[*soakUser]bool{}
	for _, s := range w.socks {
		holders[s.user] = true
	}
	w.socketUsers = len(holders)
	fmt.Fprintf(out, "setup: %d writers, %d guests, %d watchers, %d projects\n", writers, len(guests), watchers, len(w.projects))
	return w, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// tailCheck waits until every socket has received its stream's last seq
// and reports how many never did, and how many were not connected.
func (w *soakWorld) tailCheck(ctx context.Context, api *rest, wait time.Duration) (behind, down int) {
	heads := map[*wsClient]int64{}
	projectHead := map[string]int64{}
	userHead := map[*soakUser]int64{}
	for _, s := range w.socks {
		var head int64
		if s.notifications {
			h, ok := userHead[s.user]
			if !ok {
				var ns []struct{ Seq int64 }
				if _, err := api.want(ctx, s.user, "tail: notifications", "GET", "/api/v1/notifications?limit=1", nil, nil, &ns, 200); err == nil && len(ns) > 0 {
					h = ns[0].Seq
				}
				userHead[s.user] = h
			}
			head = h
		} else {
			h, ok := projectHead[s.path]
			if !ok {
				// Events after the furthest socket of the room: the head is
				// the last of them.
				h = 0
				for _, o := range w.socks {
					if o.path == s.path {
						h = max(h, o.last.Load())
					}
				}
				var es []struct{ Seq int64 }
				path := strings.Replace(s.path, "/ws/projects/", "/api/v1/projects/", 1) + "/events?since=" + strconv.FormatInt(h, 10)
				if _, err := api.want(ctx, s.user, "tail: events", "GET", path, nil, nil, &es, 200); err == nil && len(es) > 0 {
					h = es[len(es)-1].Seq
				}
				projectHead[s.path] = h
			}
			head = h
		}
		heads[s] = head
	}
	deadline := time.Now().Add(wait)
	for {
		behind, down = 0, 0
		for s, head := range heads {
			if s.last.Load() < head {
				behind++
			}
			if !s.up.Load() {
				down++
			}
		}
		if behind == 0 && down == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return behind, down
		}
		time.Sleep(100 * time.Millisecond)
	}
}
