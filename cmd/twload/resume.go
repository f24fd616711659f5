package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// resume measures how long a reconnecting socket takes to receive the
// events it missed: from the start of the handshake with since to the
// receipt of caught_up, which follows the last missed event.
func resume(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "Taskwire base URL")
	events := fs.Int("events", 1000, "missed events to replay")
	runs := fs.Int("runs", 20, "resumes to time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := newClient(*base, 16)
	project, err := resumeSetup(ctx, c, *events)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	u := fmt.Sprintf("%s/ws/projects/%d?token=%s&since=0", strings.Replace(strings.TrimRight(*base, "/"), "http", "ws", 1), project, c.token)
	var took []time.Duration
	for range *runs {
		d, err := timeResume(ctx, c.http, u, *events)
		if err != nil {
			return err
		}
		took = append(took, d)
	}
	slices.Sort(took)
	fmt.Fprintf(out, "resume of %d missed events (handshake to caught_up), %d runs: p50 %v  min %v  max %v\n",
		*events, *runs, took[len(took)/2].Round(10*time.Microsecond), took[0].Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond))
	return nil
}

// resumeSetup signs up a user with c, creates their project and the events
// a socket will have missed (one task each, from 8 concurrent requests),
// and returns the project's id.
func resumeSetup(ctx context.Context, c *client, events int) (int64, error) {
	run := fmt.Sprintf("r%d", time.Now().UnixNano())
	if _, err := c.login(ctx, run); err != nil {
		return 0, err
	}
	var project struct{ ID int64 }
	if err := c.call(ctx, "POST", "/api/v1/projects/", map[string]string{"name": "resume " + run}, http.StatusCreated, &project); err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for range next {
				err := c.call(ctx, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", project.ID), []byte(`{"title":"missed while away"}`), http.StatusCreated, nil)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range events {
		next <- i
	}
	close(next)
	wg.Wait()
	return project.ID, firstErr
}

// timeResume opens the socket at u (which asks for every event since 0)
// and returns the time from the start of the handshake to caught_up,
// checking that the events before it were the events missed.
func timeResume(ctx context.Context, hc *http.Client, u string, events int) (time.Duration, error) {
	start := time.Now()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return 0, err
	}
	ws.SetReadLimit(1 << 20)
	n := 0
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return 0, fmt.Errorf("after %d events: %w", n, err)
		}
		if strings.HasPrefix(string(msg), `{"event":"caught_up"`) {
			break
		}
		if strings.Contains(string(msg), `"seq":`) {
			n++
		}
	}
	if n != events {
		return 0, fmt.Errorf("caught_up after %d events, want %d", n, events)
	}
	took := time.Since(start)
	ws.Close(websocket.StatusNormalClosure, "")
	return took, nil
}
