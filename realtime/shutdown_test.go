package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/taskwire/taskwire/realtime"
)

// TestShutdownFlushesEverySocket: sockets whose clients have not read what
// was committed (more than the TCP buffers hold, so the hub still has it),
// then Shutdown. The clients start reading while it runs; the moment it
// returns, the server side of every socket is closed, as the process's
// exit after Shutdown would. Every client must have been sent every event
// and then the 1001 close by then.
func TestShutdownFlushesEverySocket(t *testing.T) {
	t.Parallel()
	// A small send buffer: the hub's writes to a client that does not read
	// block after a few frames, and the rest stays with the hub.
	e := newHubEnv(t, setup{sndBuf: 16 << 10})
	ctx := testCtx(t)
	const pid, before, total, pad = 1, 40, 100, 16 << 10
	e.log.project(pid, 1, 2, 3, 4)
	for i := range before {
		e.log.task(pid, fmt.Sprint("old ", i), pad)
	}
	// The witness reads as events come: once it has them all, the room
	// has them all.
	witness := e.dial(ctx, member(pid, 4, before, true))
	sockets := map[string]*client{
		"protocol 1":     e.dial(ctx, member(pid, 1, before, false)),
		"protocol 2":     e.dial(ctx, member(pid, 2, before, true)),
		"resumed from 0": e.dial(ctx, resume(pid, 3, 0)),
	}
	from := map[string]int64{"protocol 1": before, "protocol 2": before, "resumed from 0": 0}
	for i := before; i < total; i++ {
		e.log.task(pid, fmt.Sprint("new ", i), pad)
	}
	witness.wantSeqs(ctx, before+1, total)
	sockets["witness"], from["witness"] = witness, total

	shutdown := make(chan error, 1)
	go func() {
		err := e.hub.Shutdown(ctx)
		e.closeServerSides()
		shutdown <- err
	}()
	type result struct {
		name string
		got  []message
		code int
		err  error
	}
	results := make(chan result, len(sockets))
	for name, c := range sockets {
		go func() {
			got, code, err := c.untilClose(ctx)
			results <- result{name, got, code, err}
		}()
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range sockets {
		r := <-results
		if bad := gapOrExtra(r.got, from[r.name], total); bad != "" || r.code != realtime.CloseGoingAway {
			t.Errorf("%s: %s; ended with close %d (%v), want every event up to %d and close 1001",
				r.name, summary(r.got, bad), r.code, r.err, total)
		}
	}
}

// TestShutdownGivesUpWhenContextEnds: a client that never reads cannot be
// sent everything. Shutdown returns when its context ends, and the socket
// is closed then, not after the write timeout.
func TestShutdownGivesUpWhenContextEnds(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{sndBuf: 16 << 10, opts: realtime.Options{WriteTimeout: time.Minute}})
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1)
	e.dial(ctx, member(pid, 1, 0, true)) // never read
	for i := range 60 {
		e.log.task(pid, fmt.Sprint("t", i), 16<<10)
	}
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1})
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := e.hub.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	// The socket leaves the room once it is closed. The deadline is well
	// under the write timeout.
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	e.waitPresence(wctx, pid)
}

// gapOrExtra checks that the events among got (presence and control
// messages aside) are exactly from+1..to in order; it describes the first
// problem, or returns "".
func gapOrExtra(got []message, from, to int64) string {
	want := from + 1
	for _, m := range got {
		if m.presence() || m.control() {
			continue
		}
		if m.seq() != want {
			return fmt.Sprintf("got %s where seq %d was due", m, want)
		}
		want++
	}
	if want != to+1 {
		return fmt.Sprintf("events stop at seq %d", want-1)
	}
	return ""
}

// summary describes what a socket received, briefly.
func summary(got []message, problem string) string {
	if len(got) == 0 {
		return "received nothing"
	}
	return fmt.Sprintf("received %d messages, %s … %s: %s", len(got), got[0], got[len(got)-1], problem)
}
