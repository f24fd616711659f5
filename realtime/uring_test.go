package realtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/taskwire/taskwire/realtime"
)

// uringEnv starts a hub that must write through io_uring; the test is
// skipped where io_uring is not usable (not Linux, or refused), naming why.
func uringEnv(t *testing.T, s setup) *hubEnv {
	t.Helper()
	s.opts.IO = realtime.IOURing
	e := newHubEnv(t, s)
	if path, err := e.hub.IO(); path != realtime.IOURing {
		if runtime.GOOS == "linux" && err == nil {
			t.Fatalf("IO() = %s with no reason", path)
		}
		t.Skipf("io_uring not usable here: %v", err)
	}
	return e
}

// fanOut opens sockets in one room, sends it n events, checks that every
// socket receives them all in order, and returns the hub's I/O counts from
// before the events and after.
func fanOut(t *testing.T, e *hubEnv, sockets, n int) (before, after realtime.IOStats) {
	t.Helper()
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1)
	var cs []*client
	for range sockets {
		cs = append(cs, e.dial(ctx, member(pid, 1, 0, true)))
	}
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: sockets})
	before = e.hub.IOStats()
	for i := range n {
		e.log.task(pid, fmt.Sprint("t", i), 0)
	}
	for _, c := range cs {
		c.wantSeqs(ctx, 1, int64(n))
	}
	return before, e.hub.IOStats()
}

// TestURingCarriesTheSends: with io_uring usable, the room's events reach
// every socket, in order, through the ring — counted in its submissions —
// and the sockets of one room share submissions when they are ready
// together.
func TestURingCarriesTheSends(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	e := uringEnv(t, setup{opts: realtime.Options{Registerer: reg}})
	const sockets = 20
	before, after := fanOut(t, e, sockets, 30)
	if after.Submissions <= before.Submissions || after.Sends < before.Sends+sockets {
		t.Fatalf("io_uring stats %+v → %+v: the sends did not go through the ring", before, after)
	}
	t.Logf("%d sends in %d submissions", after.Sends-before.Sends, after.Submissions-before.Submissions)
	// /metrics shows the same count.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, mf := range mfs {
		if mf.GetName() == "taskwire_realtime_uring_submissions_total" {
			got = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if got < float64(after.Submissions) {
		t.Fatalf("taskwire_realtime_uring_submissions_total = %v, want at least %d", got, after.Submissions)
	}
}

// TestURingFullSocketFallsBackToWritev: a client that does not read while
// a burst far bigger than its socket buffers is sent makes the ring's
// sends come back short or with EAGAIN; the rest goes the writev way
// (waiting for the client), and once it reads it receives every event in
// order; a later event still reaches it.
func TestURingFullSocketFallsBackToWritev(t *testing.T) {
	t.Parallel()
	e := uringEnv(t, setup{sndBuf: 4 << 10, opts: realtime.Options{WriteTimeout: time.Minute}})
	ctx := testCtx(t)
	const pid, n = 1, 40
	e.log.project(pid, 1, 2)
	stalled := e.dial(ctx, member(pid, 1, 0, true))
	reader := e.dial(ctx, member(pid, 2, 0, false))
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1},
		realtime.PresenceEntry{UserID: 2, Username: "user2", Connections: 1})
	for i := int64(1); i <= n; i++ {
		e.log.task(pid, fmt.Sprint("t", i), 16<<10)
		// The other socket of the room is not held up by the stalled one.
		reader.wantSeqs(ctx, i, i)
	}
	stalled.wantSeqs(ctx, 1, n)
	if s := e.hub.IOStats(); s.Fallbacks == 0 {
		t.Fatalf("io_uring stats %+v: no send fell back to writev", s)
	}
	e.log.task(pid, "later", 0)
	stalled.wantSeqs(ctx, n+1, n+1)
	reader.wantSeqs(ctx, n+1, n+1)
}

// TestAutoFallsBackWhenURingRefused: when io_uring_setup fails (here by
// the fault injection seam, as ENOSYS or a seccomp EPERM would), an auto
// hub writes with writev, says why, and delivers as ever; a hub told to
// use io_uring reports the same, which the application turns into a
// failed start.
func TestAutoFallsBackWhenURingRefused(t *testing.T) {
	restore := realtime.FailURingSetup(fmt.Errorf("io_uring_setup: %w", syscall.EPERM))
	e := newHubEnv(t, setup{opts: realtime.Options{IO: realtime.IOAuto}})
	forced := realtime.NewHub(slog.New(slog.DiscardHandler), e.log, realtime.NewMemoryBroker(), realtime.Options{IO: realtime.IOURing})
	restore()
	if path, err := e.hub.IO(); path != realtime.IOWritev || err == nil {
		t.Fatalf("auto hub: IO() = %s, %v; want writev and the setup error", path, err)
	}
	if path, err := forced.IO(); path != realtime.IOWritev || err == nil {
		t.Fatalf("uring hub: IO() = %s, %v; want writev and the setup error", path, err)
	}
	if err := forced.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	const pid, n = 1, 5
	e.log.project(pid, 1)
	c := e.dial(ctx, member(pid, 1, 0, true))
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1})
	for i := range n {
		e.log.task(pid, fmt.Sprint("t", i), 0)
	}
	c.wantSeqs(ctx, 1, n)
	if s := e.hub.IOStats(); s != (realtime.IOStats{}) {
		t.Fatalf("io_uring stats %+v on the writev path", s)
	}
}

// TestWritevWhenAsked: IOWritev never sets up a ring.
func TestWritevWhenAsked(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{opts: realtime.Options{IO: realtime.IOWritev}})
	if path, err := e.hub.IO(); path != realtime.IOWritev || err != nil {
		t.Fatalf("IO() = %s, %v; want writev, nil", path, err)
	}
}

// TestAutoUsesTheRingOnlyWhenBusy: with IOAuto a few sockets are written
// with writev, where the hand-off to the ring would cost more than it
// saves; once enough writers run at once (RingMinWriters, here 1), their
// sends go through the ring.
func TestAutoUsesTheRingOnlyWhenBusy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		minimum  int
		wantRing bool
	}{
		{"few writers", 0, false},
		{"past the minimum", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newHubEnv(t, setup{opts: realtime.Options{IO: realtime.IOAuto, RingMinWriters: tc.minimum}})
			if path, err := e.hub.IO(); path != realtime.IOURing {
				t.Skipf("io_uring not usable here: %s, %v", path, err)
			}
			before, after := fanOut(t, e, 5, 20)
			if used := after.Sends > before.Sends; used != tc.wantRing {
				t.Fatalf("io_uring stats %+v → %+v; want the ring used: %v", before, after, tc.wantRing)
			}
		})
	}
}
