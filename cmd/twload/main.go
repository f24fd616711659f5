// Command twload drives load against a running Taskwire and reports
// throughput and latency. Scenarios:
//
// fanout: sockets in one room, mutations at a fixed rate, delivery latency,
// loss and server RSS per socket:
//
//	twload fanout -url http://127.0.0.1:8080 -sockets 10000 -rate 20 -duration 30s -pid $(pidof taskwire)
//
// resume: how long a socket takes to receive N missed events with since:
//
//	twload resume -url http://127.0.0.1:8080 -events 1000
//
// emails: the time from an assignment's commit to its email being accepted
// by an SMTP server the tool runs, under a burst of assignments:
//
//	SMTP_URL=smtp://127.0.0.1:2525?starttls=none EMAIL_DEBOUNCE=0 taskwire &
//	twload emails -url http://127.0.0.1:8080 -smtp 127.0.0.1:2525 -assignments 1000
//
// patch: each client owns a task in one shared project and sends
// PATCH /api/v1/tasks/{id}/status in a closed loop, alternating the status
// so every request is a real change (a committed write and an event):
//
//	twload patch -url http://127.0.0.1:8080 -clients 64 -duration 10s
//
// soak: mixed REST writes from -writers users (create, status, update,
// assign, members, delete, lists, events since, notifications) at -rate
// requests/s, and -sockets project and notification sockets of which a
// -churn share disconnect every -churn-every (close frame, TCP FIN or
// RST) and resume with since, each checking that seqs have no gap and no
// duplicate; /metrics (-metrics-url) is read before, during and -settle
// after the load, and the run fails unless goroutines, open fds, sockets,
// heap and RSS come back to their baseline, no response is a 5xx or a
// status the request did not expect, and every socket caught up:
//
//	RATE_LIMIT_AUTH=100000/minute taskwire &
//	twload soak -url http://127.0.0.1:8080 -duration 30m -writers 8 -sockets 100 -churn-every 10s -settle 60s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "twload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	// With one P, a process busy on its only thread polls the network every
	// 10 ms at worst; the tool's reading must not add that to its figures.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	if len(args) == 0 {
		return errors.New("usage: twload patch [flags]")
	}
	switch args[0] {
	case "patch":
		return patch(ctx, args[1:], out)
	case "fanout":
		return fanout(ctx, args[1:], out)
	case "resume":
		return resume(ctx, args[1:], out)
	case "emails":
		return emails(ctx, args[1:], out)
	case "soak":
		return soak(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown scenario %q (want patch, fanout, resume, emails or soak)", args[0])
}

// newClient returns a client keeping up to conns idle connections.
func newClient(base string, conns int) *client {
	transport := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &client{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
}

// client is a minimal Taskwire client.
type client struct {
	base  string
	http  *http.Client
	token string
}

func (a *client) call(ctx context.Context, method, path string, body any, want int, into any) error {
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ct)
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, raw)
	}
	if into != nil {
		return json.Unmarshal(raw, into)
	}
	return nil
}

// login signs up a fresh user and logs in.
func (a *client) login(ctx context.Context, name string) (int64, error) {
	var u struct{ ID int64 }
	err := a.call(ctx, "POST", "/api/v1/auth/signup", map[string]string{
		"email": name + "@load.example.com", "username": name, "password": "load-password",
	}, http.StatusCreated, &u)
	if err != nil {
		return 0, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.call(ctx, "POST", "/api/v1/auth/login", url.Values{"username": {name}, "password": {"load-password"}}, http.StatusOK, &tok); err != nil {
		return 0, err
	}
	a.token = tok.AccessToken
	return u.ID, nil
}

func patch(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("patch", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "Taskwire base URL")
	clients := fs.Int("clients", 8, "concurrent clients, each in a closed loop")
	assign := fs.Bool("assignee", false, "assign every task to a second member, so each change also notifies them")
	projects := fs.Int("projects", 1, "spread the clients' tasks over this many projects (1: one hot project)")
	duration := fs.Duration("duration", 10*time.Second, "measurement time")
	warmup := fs.Duration("warmup", 2*time.Second, "load before measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a := newClient(*base, *clients*2)
	name := fmt.Sprintf("load%d", time.Now().UnixNano())
	if _, err := a.login(ctx, name); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var assignee any // JSON null: unassigned
	var memberID int64
	if *assign {
		m := *a
		id, err := m.login(ctx, name+"m")
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		memberID, assignee = id, id
	}
	projectIDs := make([]int64, max(1, *projects))
	for i := range projectIDs {
		var project struct{ ID int64 }
		if err := a.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": fmt.Sprintf("load %s %d", name, i)}, http.StatusCreated, &project); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		if *assign {
			if err := a.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/members", project.ID), map[string]int64{"user_id": memberID}, http.StatusCreated, nil); err != nil {
				return fmt.Errorf("setup: %w", err)
			}
		}
		projectIDs[i] = project.ID
	}
	tasks := make([]int64, *clients)
	for i := range tasks {
		var t struct{ ID int64 }
		if err := a.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", projectIDs[i%len(projectIDs)]), map[string]any{"title": fmt.Sprintf("task %d", i), "assignee_id": assignee}, http.StatusCreated, &t); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		tasks[i] = t.ID
	}

	bodies := [][]byte{[]byte(`{"status":"in_progress"}`), []byte(`{"status":"todo"}`)}
	runCtx, cancel := context.WithTimeout(ctx, *warmup+*duration)
	defer cancel()
	measureFrom := time.Now().Add(*warmup)
	lat := make([][]time.Duration, *clients)
	errs := make([]int, *clients)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for i := range *clients {
		wg.Go(func() {
			path := fmt.Sprintf("/api/v1/tasks/%d/status", tasks[i])
			for n := 0; runCtx.Err() == nil; n++ {
				start := time.Now()
				err := a.call(runCtx, "PATCH", path, bodies[n%2], http.StatusOK, nil)
				took := time.Since(start)
				if runCtx.Err() != nil {
					return
				}
				if start.Before(measureFrom) {
					continue
				}
				if err != nil {
					errs[i]++
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[i] = append(lat[i], took)
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lat...)
	nerr := 0
	for _, e := range errs {
		nerr += e
	}
	what := fmt.Sprintf("%d project(s), unassigned tasks", len(projectIDs))
	if *assign {
		what = fmt.Sprintf("%d project(s), tasks assigned to another member (each change notifies them)", len(projectIDs))
	}
	report(out, fmt.Sprintf("PATCH /api/v1/tasks/{id}/status, %d clients, %v, %s", *clients, *duration, what), all, nerr, *duration)
	if firstErr != nil {
		fmt.Fprintln(out, "first error:", firstErr)
	}
	return nil
}

func report(out io.Writer, title string, lat []time.Duration, errs int, d time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Fprintf(out, "%s\n", title)
	fmt.Fprintf(out, "  requests %d ok, %d errors; %.0f req/s\n", len(lat), errs, float64(len(lat))/d.Seconds())
	fmt.Fprintf(out, "  latency p50 %v  p90 %v  p99 %v  max %v\n",
		pct(.50).Round(10*time.Microsecond), pct(.90).Round(10*time.Microsecond),
		pct(.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	fmt.Fprintf(out, "  load tool: GOMAXPROCS %d\n", runtime.GOMAXPROCS(0))
}
