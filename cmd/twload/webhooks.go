package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// webhooksFlags are the webhooks scenario's flags.
type webhooksFlags struct {
	base    string
	listen  string
	n       int
	hooks   int
	senders int
	wait    time.Duration
}

// parseWebhooksFlags parses the webhooks scenario's command line.
func parseWebhooksFlags(args []string) (webhooksFlags, error) {
	var f webhooksFlags
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	fs.StringVar(&f.base, "url", "http://127.0.0.1:8080", "Taskwire base URL")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9099", "address of the webhook receiver the tool runs")
	fs.IntVar(&f.n, "events", 1000, "task creations in the burst (each is one event per webhook)")
	fs.IntVar(&f.hooks, "hooks", 1, "webhooks on the project, all pointing at the tool's receiver")
	fs.IntVar(&f.senders, "senders", 8, "concurrent requests")
	fs.DurationVar(&f.wait, "wait", 5*time.Minute, "how long to wait for the deliveries")
	err := fs.Parse(args)
	return f, err
}

// webhooksRun is the state of one webhooks scenario.
type webhooksRun struct {
	webhooksFlags
	recv      *receiver
	owner     *client
	project   int64
	committed []time.Time // when each creation's response arrived
}

// webhooks measures webhook deliveries: the owner's project has -hooks
// webhooks for task_created pointing at a receiver the tool runs; a burst
// of -events task creations is sent, and the tool reports the time from
// each creation's commit (its response) to each of its deliveries, and
// deliveries per second from the first commit to the last delivery. Start
// the server with WEBHOOK_ALLOW_PRIVATE=true (the receiver is on loopback).
func webhooks(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseWebhooksFlags(args)
	if err != nil {
		return err
	}
	r := &webhooksRun{webhooksFlags: f, recv: newReceiver()}
	stop, err := r.recv.serve(r.listen)
	if err != nil {
		return err
	}
	defer stop()
	if err := r.setup(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	start := time.Now()
	if err := r.burst(ctx); err != nil {
		return err
	}
	burst := time.Since(start)
	want := r.n * r.hooks
	deadline := time.Now().Add(r.wait)
	for r.recv.count() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	lat, last := r.latencies()
	pct := func(p float64) time.Duration { return percentile(lat, p).Round(100 * time.Microsecond) }
	rate := 0.0
	if len(lat) > 0 {
		rate = float64(len(lat)) / last.Sub(start).Seconds()
	}
	fmt.Fprintf(out, "webhooks: %d creations committed in %v on a project with %d webhook(s); %d of %d deliveries received (%d repeated webhook-ids, %d without the Standard Webhooks headers)\n",
		r.n, burst.Round(time.Millisecond), r.hooks, len(lat), want, r.recv.dups, r.recv.bad)
	fmt.Fprintf(out, "  deliveries/s (first commit to last delivery): %.0f\n", rate)
	fmt.Fprintf(out, "  commit -> delivered: p50 %v  p90 %v  p99 %v  max %v\n", pct(.5), pct(.9), pct(.99), pct(1))
	return nil
}

// setup signs up the owner, creates the project and its webhooks.
func (r *webhooksRun) setup(ctx context.Context) error {
	r.owner = newClient(r.base, r.senders*2)
	name := fmt.Sprintf("w%d", time.Now().UnixNano())
	if _, err := r.owner.login(ctx, name); err != nil {
		return err
	}
	var project struct{ ID int64 }
	if err := r.owner.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "webhooks " + name}, http.StatusCreated, &project); err != nil {
		return err
	}
	r.project = project.ID
	return addWebhooks(ctx, r.owner, project.ID, r.hooks, "http://"+r.listen, []string{"task_created"})
}

// addWebhooks gives the project n webhooks for events (nil: all) at
// base/hook/<k>.
func addWebhooks(ctx context.Context, owner *client, project int64, n int, base string, events []string) error {
	for k := range n {
		body := map[string]any{"url": fmt.Sprintf("%s/hook/%d", base, k)}
		if events != nil {
			body["events"] = events
		}
		if err := owner.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/webhooks", project), body, http.StatusCreated, nil); err != nil {
			return err
		}
	}
	return nil
}

// burst creates -events tasks from -senders concurrent requests, noting
// when each committed, and returns the first failure.
func (r *webhooksRun) burst(ctx context.Context) error {
	r.committed = make([]time.Time, r.n)
	next := make(chan int)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	path := fmt.Sprintf("/api/v1/projects/%d/tasks", r.project)
	for range r.senders {
		wg.Go(func() {
			for k := range next {
				err := r.owner.call(ctx, "POST", path, []byte(fmt.Sprintf(`{"title":"burst-%d"}`, k)), http.StatusCreated, nil)
				r.committed[k] = time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	for k := range r.n {
		next <- k
	}
	close(next)
	wg.Wait()
	return firstErr
}

// latencies returns, sorted, the time from each creation's commit to each
// of its deliveries, and when the last delivery arrived.
func (r *webhooksRun) latencies() ([]time.Duration, time.Time) {
	r.recv.mu.Lock()
	defer r.recv.mu.Unlock()
	var lat []time.Duration
	var last time.Time
	for d, at := range r.recv.at {
		var k int
		if _, err := fmt.Sscanf(d.title, "burst-%d", &k); err != nil || k < 0 || k >= r.n {
			continue
		}
		lat = append(lat, at.Sub(r.committed[k]))
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(lat)
	return lat, last
}

// delivery is one event at one webhook.
type delivery struct {
	hook  string
	title string
}

// receiver is the tool's webhook endpoint: it answers 204 at once and
// notes when each (webhook, task title) first arrived, counting repeats of
// a webhook-id and requests without the Standard Webhooks headers.
type receiver struct {
	mu   sync.Mutex
	at   map[delivery]time.Time
	ids  map[string]bool
	dups int
	bad  int
}

func newReceiver() *receiver {
	return &receiver{at: map[delivery]time.Time{}, ids: map[string]bool{}}
}

// serve listens on addr and returns the function that stops the server.
func (v *receiver) serve(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: v, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Println("twload: receiver:", err)
		}
	}()
	return func() { srv.Close() }, nil
}

// count is how many (webhook, task title) pairs arrived.
func (v *receiver) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.at)
}

// distinct is how many webhook-ids arrived, and how many of their
// requests repeated one.
func (v *receiver) distinct() (ids, repeats int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.ids), v.dups
}

// ServeHTTP takes one delivery.
func (v *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	var body struct {
		Data struct {
			Data struct {
				Title string `json:"title"`
			} `json:"data"`
		} `json:"data"`
	}
	err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&body)
	w.WriteHeader(http.StatusNoContent)
	id := req.Header.Get("webhook-id")
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil || id == "" || req.Header.Get("webhook-timestamp") == "" || !strings.HasPrefix(req.Header.Get("webhook-signature"), "v1,") {
		v.bad++
		return
	}
	if v.ids[id] {
		v.dups++
		return
	}
	v.ids[id] = true
	d := delivery{hook: req.URL.Path, title: body.Data.Data.Title}
	if _, seen := v.at[d]; !seen {
		v.at[d] = now
	}
}
