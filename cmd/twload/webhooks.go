package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// webhooksFlags are the webhooks scenario's flags.
type webhooksFlags struct {
	base    string
	listen  string
	n       int
	senders int
	wait    time.Duration
}

// parseWebhooksFlags parses the webhooks scenario's command line.
func parseWebhooksFlags(args []string) (webhooksFlags, error) {
	var f webhooksFlags
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	fs.StringVar(&f.base, "url", "http://127.0.0.1:8080", "Taskwire base URL")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9099", "address of the webhook receiver the tool runs")
	fs.IntVar(&f.n, "events", 1000, "task creations in the burst (one event, one delivery each)")
	fs.IntVar(&f.senders, "senders", 8, "concurrent requests")
	fs.DurationVar(&f.wait, "wait", 5*time.Minute, "how long to wait for the deliveries")
	err := fs.Parse(args)
	return f, err
}

// hookReceiver is the tool's webhook endpoint: it notes when each
// webhook-id first arrived and the title of its task, and answers 204.
type hookReceiver struct {
	mu    sync.Mutex
	at    map[string]time.Time // task title → first delivery
	seen  map[string]bool      // webhook-id
	dups  int
	total int
}

func newHookReceiver() *hookReceiver {
	return &hookReceiver{at: map[string]time.Time{}, seen: map[string]bool{}}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var body struct {
		Data struct {
			Data struct {
				Title string `json:"title"`
			} `json:"data"`
		} `json:"data"`
	}
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	h.total++
	if h.seen[id] {
		h.dups++
	} else {
		h.seen[id] = true
		if t := body.Data.Data.Title; t != "" {
			h.at[t] = now
		}
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.at)
}

// serveHooks starts a receiver on addr and returns it with its URL.
func serveHooks(addr string) (*hookReceiver, string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, err
	}
	h := newHookReceiver()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return h, "http://" + ln.Addr().String() + "/hook", func() { srv.Close() }, nil
}

// webhooks measures the time from a change's commit (its response) to its
// webhook delivery reaching a receiver the tool runs, under a burst of
// task creations in one project with one webhook, and the deliveries per
// second. Start the server with WEBHOOK_ALLOW_PRIVATE=true.
func webhooks(ctx context.Context, args []string, out io.Writer) error {
	f, err := parseWebhooksFlags(args)
	if err != nil {
		return err
	}
	h, hookURL, stop, err := serveHooks(f.listen)
	if err != nil {
		return err
	}
	defer stop()
	c := newClient(f.base, f.senders*2)
	name := fmt.Sprintf("w%d", time.Now().UnixNano())
	if _, err := c.login(ctx, name); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var project struct{ ID int64 }
	if err := c.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "webhooks " + name}, http.StatusCreated, &project); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/webhooks", project.ID), map[string]string{"url": hookURL}, http.StatusCreated, nil); err != nil {
		return fmt.Errorf("setup: %w", err)
	}

	committed := make([]time.Time, f.n)
	next := make(chan int)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	path := fmt.Sprintf("/api/v1/projects/%d/tasks", project.ID)
	start := time.Now()
	for range f.senders {
		wg.Go(func() {
			for k := range next {
				err := c.call(ctx, "POST", path, []byte(fmt.Sprintf(`{"title":"hook-%d"}`, k)), http.StatusCreated, nil)
				committed[k] = time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	for k := range f.n {
		next <- k
	}
	close(next)
	wg.Wait()
	burst := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	deadline := time.Now().Add(f.wait)
	for h.count() < f.n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	h.mu.Lock()
	var lat []time.Duration
	var last time.Time
	for k := range f.n {
		if at, ok := h.at[fmt.Sprintf("hook-%d", k)]; ok {
			lat = append(lat, at.Sub(committed[k]))
			if at.After(last) {
				last = at
			}
		}
	}
	dups, total := h.dups, h.total
	h.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return percentile(lat, p).Round(time.Millisecond) }
	span := last.Sub(start)
	fmt.Fprintf(out, "webhooks: %d events committed in %v; %d delivered (%d requests, %d duplicates) by %v: %.0f deliveries/s\n",
		f.n, burst.Round(time.Millisecond), len(lat), total, dups, span.Round(time.Millisecond), float64(len(lat))/span.Seconds())
	fmt.Fprintf(out, "  commit -> delivered: p50 %v  p90 %v  p99 %v  max %v\n", pct(.5), pct(.9), pct(.99), pct(1))
	return nil
}
