package realtime_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// TestResume: a socket resuming with since is sent every event after it,
// then caught_up, then live events, with no gap and no duplicate, while
// writers keep committing.
func TestResume(t *testing.T) {
	t.Parallel()
	const pid, before, live = 1, 10, 30
	for _, since := range []int64{0, 4, before} {
		t.Run(fmt.Sprint("since ", since), func(t *testing.T) {
			t.Parallel()
			e := newHubEnv(t, setup{})
			ctx := testCtx(t)
			e.log.project(pid, 1)
			for i := range before {
				e.log.task(pid, fmt.Sprint("t", i), 0)
			}
			c := e.dial(ctx, resume(pid, 1, since))
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := range live {
					e.log.task(pid, fmt.Sprint("live ", i), 0)
				}
			})
			defer wg.Wait()
			last, caughtUp := since, int64(-1)
			// caught_up may follow the last event: the replay can reach it.
			for last < before+live || caughtUp < 0 {
				m := c.next(ctx)
				switch {
				case m.Event == realtime.TypeCaughtUp:
					if caughtUp >= 0 || m.seq() != last || m.seq() < before {
						t.Fatalf("%s after seq %d (caught_up before: %d); want one caught_up naming the last event sent, at least %d",
							m, last, caughtUp, before)
					}
					caughtUp = m.seq()
				case m.seq() != last+1:
					t.Fatalf("got %s after seq %d", m, last)
				default:
					last = m.seq()
				}
			}
		})
	}
}

// TestResumeBeyondRetention: a since older than the retained log gets
// resync_required with the current seq, then caught_up, then live
// events; a since the log still covers is replayed.
func TestResumeBeyondRetention(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1)
	for i := range 12 {
		e.log.task(pid, fmt.Sprint("t", i), 0)
	}
	e.log.retain(pid, 5) // 8..12
	want := map[int64][]string{
		0: {"resync_required#12", "caught_up#12"},
		2: {"resync_required#12", "caught_up#12"},
		7: {"task_created#8", "task_created#9", "task_created#10", "task_created#11", "task_created#12", "caught_up#12"},
		8: {"task_created#9", "task_created#10", "task_created#11", "task_created#12", "caught_up#12"},
	}
	sockets := map[int64]*client{}
	for since := range want {
		sockets[since] = e.dial(ctx, resume(pid, 1, since))
	}
	for since, c := range sockets {
		var got []string
		for range want[since] {
			got = append(got, c.next(ctx).String())
		}
		if !slices.Equal(got, want[since]) {
			t.Errorf("since %d: got %v, want %v", since, got, want[since])
		}
	}
	e.log.task(pid, "live", 0)
	for since, c := range sockets {
		if m := c.next(ctx); m.String() != "task_created#13" {
			t.Errorf("since %d: got %s, want task_created#13", since, m)
		}
	}
}

// TestProtocol1IsTheSeeds: a protocol 1 socket is sent the seed's three
// event types and nothing else — no other event type, no presence, no
// control message, however long it stays — and still the close codes.
func TestProtocol1IsTheSeeds(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{opts: realtime.Options{HeartbeatInterval: 10 * time.Millisecond}})
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1, 2)
	v1 := e.dial(ctx, member(pid, 1, 0, false))
	v2 := e.dial(ctx, member(pid, 2, 0, true))
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1},
		realtime.PresenceEntry{UserID: 2, Username: "user2", Connections: 1})
	var all, seed []string
	commit := func(typ taskwire.EventType, data any) int64 {
		ev := e.log.commit(pid, typ, data)
		name := fmt.Sprint(ev.Type, "#", ev.Seq)
		all = append(all, name)
		if slices.Contains(taskwire.SeedEventTypes, typ) {
			seed = append(seed, name)
		}
		return ev.Seq
	}
	task := map[string]any{"id": 1, "project_id": pid, "title": "t", "status": "todo"}
	commit(taskwire.EventTaskCreated, task)
	commit(taskwire.EventStatusChanged, task)
	commit(taskwire.EventTaskUpdated, task)
	commit(taskwire.EventProjectUpdated, map[string]any{"id": pid, "name": "renamed"})
	commit(taskwire.EventMemberAdded, map[string]any{"project_id": pid, "user_id": 3, "user": map[string]any{"id": 3}})
	// Presence comes and goes; protocol 1 hears nothing of it.
	third := e.dial(ctx, member(pid, 3, 0, true))
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1},
		realtime.PresenceEntry{UserID: 2, Username: "user2", Connections: 1}, realtime.PresenceEntry{UserID: 3, Username: "user3", Connections: 1})
	_ = third.ws.CloseNow()
	e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: 1, Username: "user1", Connections: 1},
		realtime.PresenceEntry{UserID: 2, Username: "user2", Connections: 1})
	commit(taskwire.EventMemberRemoved, map[string]any{"project_id": pid, "user_id": 3})
	commit(taskwire.EventTaskDeleted, map[string]any{"id": 1, "project_id": pid})
	last := commit(taskwire.EventTaskCreated, task)
	// The protocol 2 socket is sent heartbeats meanwhile: read it until
	// one names the last event.
	var v2got []message
	for {
		m := v2.next(ctx)
		v2got = append(v2got, m)
		if m.Event == realtime.TypeHeartbeat && m.seq() == last {
			break
		}
	}
	commit(taskwire.EventProjectDeleted, map[string]any{"id": pid})

	var got1 []string
	for _, m := range v1.wantClose(ctx, realtime.CloseAccessRevoked) {
		got1 = append(got1, m.String())
	}
	if !slices.Equal(got1, seed) {
		t.Errorf("protocol 1 got %v, want exactly %v", got1, seed)
	}
	var got2, other []string
	for _, m := range append(v2got, v2.wantClose(ctx, realtime.CloseAccessRevoked)...) {
		if m.presence() || m.control() {
			other = append(other, m.Event)
			continue
		}
		got2 = append(got2, m.String())
	}
	if !slices.Equal(got2, all) {
		t.Errorf("protocol 2 got %v, want %v", got2, all)
	}
	for _, typ := range []string{realtime.TypeCaughtUp, realtime.TypeHeartbeat, realtime.TypePresenceJoined, realtime.TypePresenceLeft} {
		if !slices.Contains(other, typ) {
			t.Errorf("protocol 2 was sent no %s: %v", typ, other)
		}
	}
}

// TestCaughtUpAndHeartbeat: on protocol 2, caught_up comes once, before
// any heartbeat, and every caught_up and heartbeat names exactly the last
// event sent before it (or where the socket started, when it has been
// sent none); protocol 1 gets neither.
func TestCaughtUpAndHeartbeat(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{opts: realtime.Options{HeartbeatInterval: 10 * time.Millisecond}})
	ctx := testCtx(t)
	const busy, quiet, before, n = 1, 2, 5, 60
	e.log.project(busy, 1)
	e.log.project(quiet, 1)
	for i := range before {
		e.log.task(busy, fmt.Sprint("t", i), 0)
		e.log.task(quiet, fmt.Sprint("t", i), 0)
	}
	sockets := map[string]struct {
		c           *client
		after, last int64
	}{
		"live":          {e.dial(ctx, member(busy, 1, before, true)), before, before + n},
		"resumed":       {e.dial(ctx, resume(busy, 1, 2)), 2, before + n},
		"from 0":        {e.dial(ctx, member(busy, 1, 0, true)), 0, before + n},
		"quiet project": {e.dial(ctx, member(quiet, 1, before, true)), before, before},
	}
	v1 := e.dial(ctx, member(busy, 1, before, false))
	for i := range n {
		e.log.task(busy, fmt.Sprint("live ", i), 0)
		if i%10 == 0 {
			time.Sleep(15 * time.Millisecond) // let heartbeats fall between events
		}
	}
	for name, s := range sockets {
		last, caughtUp, beats := s.after, false, 0
		// Read every event, then three heartbeats after the last.
		for last < s.last || beats < 3 {
			m := s.c.next(ctx)
			switch m.Event {
			case realtime.TypeCaughtUp:
				if caughtUp || m.seq() != last {
					t.Fatalf("%s: %s after seq %d (caught_up before: %v)", name, m, last, caughtUp)
				}
				caughtUp = true
			case realtime.TypeHeartbeat:
				if !caughtUp || m.seq() != last {
					t.Fatalf("%s: %s after seq %d (caught_up before: %v)", name, m, last, caughtUp)
				}
				if last == s.last {
					beats++
				}
			default:
				if m.seq() != last+1 {
					t.Fatalf("%s: %s after seq %d", name, m, last)
				}
				last = m.seq()
			}
		}
	}
	// The protocol 1 socket had as long to be sent heartbeats.
	e.log.deleteProject(busy)
	got := v1.wantClose(ctx, realtime.CloseAccessRevoked)
	if bad := gapOrExtra(got, before, before+n); bad != "" || len(got) != n {
		t.Errorf("protocol 1: %s; want exactly the events %d..%d", summary(got, bad), before+1, before+n)
	}
}

// TestTokenExpiry: a socket closes with 4401 when its token expires, not
// before; one whose token expired before it joined closes at once.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1)
	now := time.Now()
	expires := map[string]time.Time{
		"expired": now.Add(-time.Second),
		"soon":    now.Add(500 * time.Millisecond),
		"later":   now.Add(time.Hour),
		"never":   {},
	}
	sockets := map[string]*client{}
	for name, at := range expires {
		req := member(pid, 1, 0, true)
		req.Expires = at
		sockets[name] = e.dial(ctx, req)
	}
	if got := events(sockets["expired"].wantClose(ctx, realtime.CloseTokenExpired)); len(got) != 0 {
		t.Errorf("expired: got %v before 4401", got)
	}
	e.log.task(pid, "before expiry", 0)
	for _, name := range []string{"later", "never"} {
		sockets[name].wantSeqs(ctx, 1, 1)
	}
	// It may have been sent the event before its token expired.
	if got := events(sockets["soon"].wantClose(ctx, realtime.CloseTokenExpired)); len(got) > 1 || len(got) == 1 && got[0].seq() != 1 {
		t.Errorf("soon: got %v before 4401", got)
	}
	if time.Now().Before(expires["soon"]) {
		t.Errorf("soon: closed before its token expired")
	}
	e.log.task(pid, "after expiry", 0)
	for _, name := range []string{"later", "never"} {
		sockets[name].wantSeqs(ctx, 2, 2)
	}
}

// TestNotificationStream: a user's notification socket resumes like a
// project's — what it missed, caught_up, then live — and presence and
// revocation do not apply to it.
func TestNotificationStream(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const user = 7
	for range 3 {
		e.log.notify(user, 1)
	}
	req := realtime.JoinRequest{Kind: realtime.UserStream, ID: user, UserID: user, Username: "user7", After: 1, Resume: true, V2: true}
	c := e.dial(ctx, req)
	other := e.dial(ctx, realtime.JoinRequest{Kind: realtime.UserStream, ID: user + 1, UserID: user + 1, Username: "user8", V2: true})
	var got []string
	for range 3 {
		got = append(got, c.next(ctx).String())
	}
	e.log.notify(user, 1)
	e.log.notify(user+1, 1)
	got = append(got, c.next(ctx).String())
	if want := []string{"notification#2", "notification#3", "caught_up#3", "notification#4"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if m := other.nextEvent(ctx); m.String() != "notification#1" {
		t.Errorf("the other user got %s, want their own notification#1", m)
	}
}
