package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"
)

// patchFlags are the patch scenario's flags.
type patchFlags struct {
	base     string
	clients  int
	assign   bool
	projects int
	duration time.Duration
	warmup   time.Duration
	webhooks int
	hookAddr string
}

// parsePatchFlags parses the patch scenario's command line.
func parsePatchFlags(args []string) (patchFlags, error) {
	var f patchFlags
	fs := flag.NewFlagSet("patch", flag.ContinueOnError)
	fs.StringVar(&f.base, "url", "http://127.0.0.1:8080", "Taskwire base URL")
	fs.IntVar(&f.clients, "clients", 8, "concurrent clients, each in a closed loop")
	fs.BoolVar(&f.assign, "assignee", false, "assign every task to a second member, so each change also notifies them")
	fs.IntVar(&f.projects, "projects", 1, "spread the clients' tasks over this many projects (1: one hot project)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "measurement time")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "load before measuring")
	fs.IntVar(&f.webhooks, "webhooks", 0, "webhooks per project, posting to a receiver the tool runs (needs WEBHOOK_ALLOW_PRIVATE=true)")
	fs.StringVar(&f.hookAddr, "hook-listen", "127.0.0.1:0", "address of that receiver")
	err := fs.Parse(args)
	return f, err
}

// patchRun is the state of one patch scenario: the owner's client and what
// setup created for the closed loops.
type patchRun struct {
	patchFlags
	a          *client // the owner, who sends every request
	name       string  // the owner's username, a prefix for the rest
	memberID   int64   // the assignee with -assignee
	assignee   any     // memberID, or nil (JSON null: unassigned)
	projectIDs []int64
	tasks      []int64 // one per client
	hookURL    string  // the receiver of -webhooks
}

// patch measures PATCH /api/v1/tasks/{id}/status: each client owns a task
// and sends status changes in a closed loop.
func patch(ctx context.Context, args []string, out io.Writer) error {
	f, err := parsePatchFlags(args)
	if err != nil {
		return err
	}
	r := &patchRun{patchFlags: f, a: newClient(f.base, f.clients*2), name: fmt.Sprintf("load%d", time.Now().UnixNano())}
	if err := r.setup(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if f.webhooks > 0 {
		_, url, stop, err := serveHooks(f.hookAddr)
		if err != nil {
			return err
		}
		defer stop()
		r.hookURL = url
	}
	if err := r.setupHooks(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	lat, nerr, firstErr := r.drive(ctx)
	what := fmt.Sprintf("%d project(s), unassigned tasks", len(r.projectIDs))
	if r.assign {
		what = fmt.Sprintf("%d project(s), tasks assigned to another member (each change notifies them)", len(r.projectIDs))
	}
	if r.webhooks > 0 {
		what += fmt.Sprintf(", %d webhooks per project", r.webhooks)
	}
	report(out, fmt.Sprintf("PATCH /api/v1/tasks/{id}/status, %d clients, %v, %s", r.clients, r.duration, what), lat, nerr, r.duration)
	if firstErr != nil {
		fmt.Fprintln(out, "first error:", firstErr)
	}
	return nil
}

// setup signs up the owner (and with -assignee the member), creates the
// projects and one task per client.
func (r *patchRun) setup(ctx context.Context) error {
	if _, err := r.a.login(ctx, r.name); err != nil {
		return err
	}
	if r.assign {
		m := *r.a
		id, err := m.login(ctx, r.name+"m")
		if err != nil {
			return err
		}
		r.memberID, r.assignee = id, id
	}
	if err := r.createProjects(ctx); err != nil {
		return err
	}
	r.tasks = make([]int64, r.clients)
	for i := range r.tasks {
		var t struct{ ID int64 }
		body := map[string]any{"title": fmt.Sprintf("task %d", i), "assignee_id": r.assignee}
		if err := r.a.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", r.projectIDs[i%len(r.projectIDs)]), body, http.StatusCreated, &t); err != nil {
			return err
		}
		r.tasks[i] = t.ID
	}
	return nil
}

// setupHooks gives each project -webhooks webhooks posting to the tool's
// receiver.
func (r *patchRun) setupHooks(ctx context.Context) error {
	for _, pid := range r.projectIDs {
		for range r.webhooks {
			if err := r.a.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/webhooks", pid), map[string]string{"url": r.hookURL}, http.StatusCreated, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// createProjects creates the -projects projects, with the member in each
// when tasks are assigned.
func (r *patchRun) createProjects(ctx context.Context) error {
	r.projectIDs = make([]int64, max(1, r.projects))
	for i := range r.projectIDs {
		var project struct{ ID int64 }
		if err := r.a.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": fmt.Sprintf("load %s %d", r.name, i)}, http.StatusCreated, &project); err != nil {
			return err
		}
		if r.assign {
			if err := r.a.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/members", project.ID), map[string]int64{"user_id": r.memberID}, http.StatusCreated, nil); err != nil {
				return err
			}
		}
		r.projectIDs[i] = project.ID
	}
	return nil
}

// drive runs the clients' closed loops for -warmup plus -duration and
// returns the latencies of the successful requests sent after the warmup,
// the number of failed ones and the first failure.
func (r *patchRun) drive(ctx context.Context) (lat []time.Duration, nerr int, firstErr error) {
	runCtx, cancel := context.WithTimeout(ctx, r.warmup+r.duration)
	defer cancel()
	measureFrom := time.Now().Add(r.warmup)
	lats := make([][]time.Duration, r.clients)
	errs := make([]int, r.clients)
	var errOnce sync.Once
	var wg sync.WaitGroup
	for i := range r.clients {
		wg.Go(func() {
			lats[i], errs[i] = r.loop(runCtx, r.tasks[i], measureFrom, func(err error) {
				errOnce.Do(func() { firstErr = err })
			})
		})
	}
	wg.Wait()
	for _, e := range errs {
		nerr += e
	}
	return slices.Concat(lats...), nerr, firstErr
}

// patchBodies alternate the status so every request is a real change.
var patchBodies = [][]byte{[]byte(`{"status":"in_progress"}`), []byte(`{"status":"todo"}`)}

// loop is one client's closed loop on its task until ctx ends. Requests
// started before measureFrom, and the one the end of ctx cuts off, are not
// counted; onErr sees each counted failure.
func (r *patchRun) loop(ctx context.Context, task int64, measureFrom time.Time, onErr func(error)) (lat []time.Duration, errs int) {
	path := fmt.Sprintf("/api/v1/tasks/%d/status", task)
	for n := 0; ctx.Err() == nil; n++ {
		start := time.Now()
		err := r.a.call(ctx, "PATCH", path, patchBodies[n%2], http.StatusOK, nil)
		took := time.Since(start)
		if ctx.Err() != nil {
			return lat, errs
		}
		if start.Before(measureFrom) {
			continue
		}
		if err != nil {
			errs++
			onErr(err)
			continue
		}
		lat = append(lat, took)
	}
	return lat, errs
}

// report prints a closed-loop scenario's request count, rate and latency
// percentiles.
func report(out io.Writer, title string, lat []time.Duration, errs int, d time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return percentile(lat, p).Round(10 * time.Microsecond) }
	fmt.Fprintf(out, "%s\n", title)
	fmt.Fprintf(out, "  requests %d ok, %d errors; %.0f req/s\n", len(lat), errs, float64(len(lat))/d.Seconds())
	fmt.Fprintf(out, "  latency p50 %v  p90 %v  p99 %v  max %v\n", pct(.50), pct(.90), pct(.99), pct(1))
	fmt.Fprintf(out, "  load tool: GOMAXPROCS %d\n", runtime.GOMAXPROCS(0))
}
