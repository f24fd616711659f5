// Command twload drives load against a running Taskwire and reports
// throughput and latency. Scenarios:
//
// fanout: sockets in one room, mutations at a fixed rate, delivery latency,
// loss and server RSS per socket:
//
//	twload fanout -url http://127.0.0.1:8080 -sockets 10000 -rate 20 -duration 30s -pid $(pidof taskwire)
//
// The same against Centrifugo (scripts/centrifugo.sh), for comparison:
//
//	twload fanout -target centrifugo -centrifugo-api http://127.0.0.1:8000/api -centrifugo-ws ws://127.0.0.1:8000/connection/websocket -sockets 10000 -rate 20 -pid $PID
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
// webhooks: the time from a change's commit to its webhook delivery
// reaching a receiver the tool runs, and deliveries per second, under a
// burst of task creations:
//
//	WEBHOOK_ALLOW_PRIVATE=true taskwire &
//	twload webhooks -url http://127.0.0.1:8080 -listen 127.0.0.1:9099 -events 1000
//
// patch: each client owns a task in one shared project and sends
// PATCH /api/v1/tasks/{id}/status in a closed loop, alternating the status
// so every request is a real change (a committed write and an event):
//
//	twload patch -url http://127.0.0.1:8080 -clients 64 -duration 10s
//
// With -webhooks N each project has N webhooks posting to a receiver the
// tool runs on -hook-listen (start the server with WEBHOOK_ALLOW_PRIVATE=true).
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
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
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

// run starts the scenario args[0] names with the rest of args as its flags.
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
	case "webhooks":
		return webhooks(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown scenario %q (want patch, fanout, resume, emails, webhooks or soak)", args[0])
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

// call sends a request with body (JSON, a form or raw bytes) and decodes
// the response into into; a status other than want is an error.
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

// percentile returns the value at quantile p (0 to 1) of sorted, or the
// zero value when sorted is empty.
func percentile[T any](sorted []T, p float64) T {
	if len(sorted) == 0 {
		var zero T
		return zero
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
