package realtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// TestRunOwnsItsGoroutines: what the hub starts on its own — a gap repair,
// a reconcile after the broker reconnects, a presence write — stops when
// Run's context ends, and Run returns only after it has: a dependency that
// hangs is not left with a call under way.
func TestRunOwnsItsGoroutines(t *testing.T) {
	t.Parallel()
	const pid = 1
	for name, tc := range map[string]struct {
		op     string // the call that hangs
		shared bool   // with a shared presence store
		start  func(e *hubEnv)
	}{
		"gap repair": {op: "Replay", start: func(e *hubEnv) {
			// Seq 2 before seq 1: the room reads the gap from the log.
			e.log.pub.Publish(realtime.EventMessage(taskwire.Event{Seq: 2, ProjectID: pid, Type: taskwire.EventTaskCreated}))
		}},
		"reconcile after a broker reconnect": {op: "LastSeqs", start: func(e *hubEnv) {
			e.log.pub.Publish(realtime.Message{})
		}},
		"presence write": {op: "Put", shared: true, start: func(*hubEnv) {}}, // the join writes
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := &fakePresence{conns: map[[2]int64]int{}}
			s := setup{opts: realtime.Options{ReconcileInterval: time.Hour}}
			if tc.shared {
				s.opts.Presence = store
			}
			e := newHubEnv(t, s)
			hangs := &e.log.stall
			if tc.shared {
				hangs = &store.stall
			}
			hangs.set(tc.op)
			ctx := testCtx(t)
			e.log.project(pid, 1)
			e.dial(ctx, member(pid, 1, 0, true)) // the socket's join writes presence
			if !tc.shared {
				e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1})
			}
			tc.start(e)
			for calls, _ := hangs.counts(); calls == 0; calls, _ = hangs.counts() {
				select {
				case <-ctx.Done():
					t.Fatalf("no call to %s", tc.op)
				case <-time.After(5 * time.Millisecond):
				}
			}
			if err := e.stopRun(); err != nil {
				t.Fatal(err)
			}
			if _, inFlight := hangs.counts(); inFlight != 0 {
				t.Errorf("Run returned with %d calls to %s under way", inFlight, tc.op)
			}
		})
	}
}

// TestShutdownDuringJoins: sockets joining while Shutdown runs are either
// refused or flushed like the others; each is closed with 1001 and
// Shutdown returns without its context ending.
func TestShutdownDuringJoins(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const pid, n = 1, 40
	e.log.project(pid)
	e.log.task(pid, "t", 0)
	results := make(chan error, n)
	go0 := make(chan struct{})
	var wg sync.WaitGroup
	for i := range int64(n) {
		wg.Go(func() {
			<-go0
			c, err := e.open(ctx, member(pid, i+1, 0, i%2 == 0))
			if err != nil {
				results <- err
				return
			}
			got, code, err := c.untilClose(ctx)
			if code != realtime.CloseGoingAway || len(events(got)) > 1 {
				err = fmt.Errorf("user %d: got %v, then %v; want at most the event and close 1001", i+1, got, err)
			} else {
				err = nil
			}
			results <- err
		})
	}
	close(go0)
	// Shut down once some have joined, while the others are joining.
	for {
		if p, _ := e.hub.Presence(ctx, pid); len(p) >= n/4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.hub.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Error(err)
		}
	}
}

// fakePresence is a realtime.PresenceStore in memory: the presence of one
// instance, whose stall holds up the calls it is set on.
type fakePresence struct {
	stall stall

	mu    sync.Mutex // guards conns
	conns map[[2]int64]int
}

// Put implements realtime.PresenceStore.
func (p *fakePresence) Put(ctx context.Context, _ int64, _ []realtime.PresenceEntry) error {
	return p.stall.wait(ctx, "Put")
}

// Get implements realtime.PresenceStore; the tests do not ask.
func (p *fakePresence) Get(context.Context, int64) ([]realtime.PresenceEntry, error) {
	return nil, nil
}

// Alive implements realtime.PresenceStore.
func (p *fakePresence) Alive(ctx context.Context) error { return p.stall.wait(ctx, "Alive") }

// Mark implements realtime.PresenceStore.
func (p *fakePresence) Mark(_ context.Context, projectID, userID int64, conns int) (joined, left bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := [2]int64{projectID, userID}
	prev := p.conns[k]
	p.conns[k] = conns
	return prev == 0 && conns > 0, prev > 0 && conns == 0, nil
}
