package realtime_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/taskwire/taskwire/realtime"
)

// TestPresence: a user's first socket in a room announces presence_joined
// to the room's other protocol 2 sockets (not to itself, not to protocol
// 1), more sockets of the user count once, and the last one to close
// announces presence_left. Hub.Presence lists who is there.
func TestPresence(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const pid = 1
	e.log.project(pid, 1, 2, 3)
	entry := func(user int64, conns int) realtime.PresenceEntry {
		return realtime.PresenceEntry{UserID: user, Username: member(pid, user, 0, false).Username, Connections: conns}
	}
	seq := int64(0)
	// barrier commits an event and checks it is the next message of each
	// socket, after the presence messages listed for it.
	barrier := func(want map[*client][]string) {
		t.Helper()
		seq = e.log.task(pid, "barrier", 0).Seq
		for c, msgs := range want {
			for _, w := range append(msgs, fmt.Sprint("task_created#", seq)) {
				m := c.next(ctx)
				if m.Event == realtime.TypeCaughtUp {
					m = c.next(ctx)
				}
				got := m.String()
				if m.presence() {
					got = m.Event + " " + string(m.Data)
				}
				if got != w {
					t.Fatalf("got %s, want %s", got, w)
				}
			}
		}
	}
	joined := func(user string) string {
		return `presence_joined {"user_id":` + user + `,"username":"user` + user + `"}`
	}
	left := func(user string) string {
		return `presence_left {"user_id":` + user + `,"username":"user` + user + `"}`
	}

	tab1 := e.dial(ctx, member(pid, 1, 0, true))
	e.waitPresence(ctx, pid, entry(1, 1))
	tab2 := e.dial(ctx, member(pid, 1, 0, true))
	e.waitPresence(ctx, pid, entry(1, 2))
	barrier(map[*client][]string{tab1: nil, tab2: nil})

	bob := e.dial(ctx, member(pid, 2, seq, true))
	e.waitPresence(ctx, pid, entry(1, 2), entry(2, 1))
	barrier(map[*client][]string{tab1: {joined("2")}, tab2: {joined("2")}, bob: nil})

	// A protocol 1 socket counts, and is told nothing.
	carol := e.dial(ctx, member(pid, 3, seq, false))
	e.waitPresence(ctx, pid, entry(1, 2), entry(2, 1), entry(3, 1))
	barrier(map[*client][]string{tab1: {joined("3")}, tab2: {joined("3")}, bob: {joined("3")}, carol: nil})

	_ = tab1.ws.CloseNow()
	e.waitPresence(ctx, pid, entry(1, 1), entry(2, 1), entry(3, 1))
	barrier(map[*client][]string{tab2: nil, bob: nil, carol: nil})

	_ = tab2.ws.CloseNow()
	e.waitPresence(ctx, pid, entry(2, 1), entry(3, 1))
	_ = carol.ws.CloseNow()
	e.waitPresence(ctx, pid, entry(2, 1))
	barrier(map[*client][]string{bob: {left("1"), left("3")}})

	_ = bob.ws.CloseNow()
	e.waitPresence(ctx, pid)
	if got, err := e.hub.Presence(context.Background(), pid+1); err != nil || len(got) != 0 {
		t.Errorf("presence of a room nobody joined: %v, %v", got, err)
	}
}
