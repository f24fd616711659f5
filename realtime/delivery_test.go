package realtime_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// TestEverySocketGetsEverySeqOnceInOrder: writers commit concurrently; every
// socket of the room, whatever its protocol or start, receives every seq
// exactly once, in order.
func TestEverySocketGetsEverySeqOnceInOrder(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const pid, writers, each = 1, 8, 50
	e.log.project(pid, 1, 2, 3)
	sockets := map[string]*client{
		"protocol 1":     e.dial(ctx, member(pid, 1, 0, false)),
		"protocol 2":     e.dial(ctx, member(pid, 2, 0, true)),
		"resumed from 0": e.dial(ctx, resume(pid, 3, 0)),
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e.log.task(pid, fmt.Sprint("w", w, "-", i), 0)
			}
		})
	}
	wg.Wait()
	// One more after the burst: a duplicate of any earlier seq would come
	// before it.
	e.log.task(pid, "last", 0)
	for name, c := range sockets {
		t.Run(name, func(t *testing.T) {
			c.t = t
			c.wantSeqs(ctx, 1, writers*each+1)
		})
	}
}

// TestGapRepair: publishes lost or delivered out of order are repaired
// from the log as soon as a later one reveals the gap, and one delivered
// twice is sent once; the reconciler is out of the picture (it runs once
// an hour here).
func TestGapRepair(t *testing.T) {
	t.Parallel()
	const n = 31 // the last publish is never lost or held back
	for name, tc := range map[string]struct {
		rule    func(m realtime.Message) fate
		repairs bool // the room has to read from the log
	}{
		"lost": {func(m realtime.Message) fate {
			return map[bool]fate{true: drop, false: deliver}[m.Seq%3 == 0]
		}, true},
		"reordered": {func(m realtime.Message) fate {
			return map[bool]fate{true: holdBack, false: deliver}[m.Seq%4 == 1]
		}, true},
		"duplicated": {func(m realtime.Message) fate {
			return map[bool]fate{true: duplicate, false: deliver}[m.Seq%2 == 0]
		}, false},
		"all at once": {func(m realtime.Message) fate {
			return [...]fate{deliver, drop, holdBack, duplicate, deliver}[m.Seq%5]
		}, true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := &lossyBroker{rule: func(m realtime.Message) fate {
				if m.Seq >= n {
					return deliver
				}
				return tc.rule(m)
			}}
			reg := prometheus.NewRegistry()
			e := newHubEnv(t, setup{
				opts: realtime.Options{ReconcileInterval: time.Hour, Registerer: reg},
				broker: func(mb *realtime.MemoryBroker) realtime.Broker {
					b.MemoryBroker = mb
					return b
				},
			})
			ctx := testCtx(t)
			e.log.project(1, 1, 2)
			p1 := e.dial(ctx, member(1, 1, 0, false))
			p2 := e.dial(ctx, member(1, 2, 0, true))
			e.waitPresence(ctx, 1, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1},
				realtime.PresenceEntry{UserID: 2, Username: "user2", Connections: 1})
			for i := range n {
				e.log.task(1, fmt.Sprint("t", i), 0)
			}
			p1.wantSeqs(ctx, 1, n)
			p2.wantSeqs(ctx, 1, n)
			if repairs := counter(t, reg, "taskwire_realtime_gap_repairs_total"); (repairs > 0) != tc.repairs {
				t.Errorf("%v gap repairs; want some: %v", repairs, tc.repairs)
			}
		})
	}
}

// counter reads a counter's value from a registry.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestReconcilerDeliversLostLastEvent: the last event of a burst is lost,
// so no later publish reveals the gap; the reconciler finds it. The same
// for project_deleted, after which the sockets close with 4403.
func TestReconcilerDeliversLostLastEvent(t *testing.T) {
	t.Parallel()
	b := &lossyBroker{rule: func(m realtime.Message) fate {
		if m.Seq == 5 || m.Revoke == -1 {
			return drop
		}
		return deliver
	}}
	e := newHubEnv(t, setup{
		opts: realtime.Options{ReconcileInterval: 50 * time.Millisecond},
		broker: func(mb *realtime.MemoryBroker) realtime.Broker {
			b.MemoryBroker = mb
			return b
		},
	})
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1, 2)
	p1 := e.dial(ctx, member(pid, 1, 0, false))
	p2 := e.dial(ctx, member(pid, 2, 0, true))
	for i := range 5 {
		e.log.task(pid, fmt.Sprint("t", i), 0)
	}
	p1.wantSeqs(ctx, 1, 5)
	p2.wantSeqs(ctx, 1, 5)

	e.log.deleteProject(pid)
	if got := p1.wantClose(ctx, realtime.CloseAccessRevoked); len(got) != 0 {
		t.Errorf("protocol 1 got %v before 4403, want nothing", got)
	}
	got := events(p2.wantClose(ctx, realtime.CloseAccessRevoked))
	if len(got) != 1 || got[0].Event != string(taskwire.EventProjectDeleted) || got[0].seq() != 6 {
		t.Errorf("protocol 2 got %v before 4403, want project_deleted#6", got)
	}
	if d := b.droppedSeqs(); !slices.Equal(d, []int64{5, 6}) {
		t.Errorf("dropped %v, want [5 6]", d)
	}
}

// TestSlowSocketIsClosedOthersUnaffected: a client that stops reading is
// closed with 4408 once it falls further behind than its queue allows; the
// room's other sockets are sent every event meanwhile (each is read before
// the next is committed), and the slow one resumes without loss.
func TestSlowSocketIsClosedOthersUnaffected(t *testing.T) {
	t.Parallel()
	// The write timeout outlasts the test, so the slow socket's blocked
	// write completes when it reads again, and the close frame reaches it.
	e := newHubEnv(t, setup{sndBuf: 16 << 10, opts: realtime.Options{QueueMessages: 8, WriteTimeout: time.Minute}})
	ctx := testCtx(t)
	const pid, n = 1, 200
	e.log.project(pid, 1, 2, 3)
	slow := e.dial(ctx, member(pid, 1, 0, true))
	fast := []*client{e.dial(ctx, member(pid, 2, 0, false)), e.dial(ctx, member(pid, 3, 0, true))}
	// Joined before the events come: a socket still replaying from the log
	// is not held to its queue limits.
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1},
		realtime.PresenceEntry{UserID: 2, Username: "user2", Connections: 1}, realtime.PresenceEntry{UserID: 3, Username: "user3", Connections: 1})
	for i := int64(1); i <= n; i++ {
		e.log.task(pid, fmt.Sprint("t", i), 4<<10)
		for _, c := range fast {
			c.wantSeqs(ctx, i, i)
		}
	}
	got := slow.wantClose(ctx, realtime.CloseTooSlow)
	last := int64(0)
	for _, m := range events(got) {
		if m.seq() != last+1 {
			t.Fatalf("slow socket: %s after seq %d", m, last)
		}
		last = m.seq()
	}
	if last >= n {
		t.Fatalf("slow socket received all %d events; it was never too slow", n)
	}
	again := e.dial(ctx, resume(pid, 1, last))
	again.wantSeqs(ctx, last+1, n)
}

// events returns the events of the log among msgs.
func events(msgs []message) []message {
	var out []message
	for _, m := range msgs {
		if !m.presence() && !m.control() {
			out = append(out, m)
		}
	}
	return out
}

// TestSocketOutlivesASlowWrite: a write that had to wait for the client
// (a burst bigger than the socket buffers) leaves no deadline behind that
// fails the socket's next write once the write timeout has passed.
func TestSocketOutlivesASlowWrite(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	e := newHubEnv(t, setup{sndBuf: 16 << 10, opts: realtime.Options{WriteTimeout: timeout}})
	ctx := testCtx(t)
	const pid, n = 1, 40
	e.log.project(pid, 1)
	c := e.dial(ctx, member(pid, 1, 0, true))
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1})
	for i := range n {
		e.log.task(pid, fmt.Sprint("t", i), 16<<10)
	}
	c.wantSeqs(ctx, 1, n)
	time.Sleep(2 * timeout)
	e.log.task(pid, "later", 0)
	c.wantSeqs(ctx, n+1, n+1)
}
