package realtime_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// TestRevocation: an event that ends a user's access closes that user's
// sockets with 4403 right after it — a protocol 2 socket is sent the event
// first, a protocol 1 socket is not (it is not one of the seed's) — and
// nothing committed later reaches them. Other sockets carry on.
func TestRevocation(t *testing.T) {
	t.Parallel()
	const pid, owner, removed = 1, 1, 2

	t.Run("member removed", func(t *testing.T) {
		t.Parallel()
		e := newHubEnv(t, setup{})
		ctx := testCtx(t)
		e.log.project(pid, owner, removed)
		e.log.task(pid, "before", 0)
		v2 := e.dial(ctx, member(pid, removed, 1, true))
		v1 := e.dial(ctx, member(pid, removed, 1, false))
		other := e.dial(ctx, member(pid, owner, 1, true))
		e.log.removeMember(pid, removed)
		e.log.task(pid, "secret plans", 0)

		got := events(v2.wantClose(ctx, realtime.CloseAccessRevoked))
		if len(got) != 1 || got[0].Event != string(taskwire.EventMemberRemoved) || got[0].seq() != 2 {
			t.Errorf("protocol 2: got %v before 4403, want member_removed#2", got)
		}
		if got := v1.wantClose(ctx, realtime.CloseAccessRevoked); len(got) != 0 {
			t.Errorf("protocol 1: got %v before 4403, want nothing", got)
		}
		other.wantSeqs(ctx, 2, 3)
		e.log.task(pid, "after", 0)
		other.wantSeqs(ctx, 4, 4)
	})

	t.Run("project deleted", func(t *testing.T) {
		t.Parallel()
		e := newHubEnv(t, setup{})
		ctx := testCtx(t)
		e.log.project(pid, owner, removed)
		sockets := map[string]*client{
			"owner, protocol 2":  e.dial(ctx, member(pid, owner, 0, true)),
			"owner, protocol 1":  e.dial(ctx, member(pid, owner, 0, false)),
			"member, protocol 2": e.dial(ctx, member(pid, removed, 0, true)),
			"member, resumed":    e.dial(ctx, resume(pid, removed, 0)),
		}
		// Joined before the project goes: one deleted during the handshake
		// cannot be joined at all.
		e.waitPresence(ctx, pid, realtime.PresenceEntry{UserID: owner, Username: "user1", Connections: 2},
			realtime.PresenceEntry{UserID: removed, Username: "user2", Connections: 2})
		e.log.task(pid, "doomed", 0)
		e.log.deleteProject(pid)
		for name, c := range sockets {
			want := []string{"task_created#1", "project_deleted#2"}
			if name == "owner, protocol 1" {
				want = want[:1]
			}
			var got []string
			for _, m := range events(c.wantClose(ctx, realtime.CloseAccessRevoked)) {
				got = append(got, m.String())
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: got %v before 4403, want %v", name, got, want)
			}
		}
	})

	t.Run("removed, added back, resuming from before", func(t *testing.T) {
		t.Parallel()
		e := newHubEnv(t, setup{})
		ctx := testCtx(t)
		e.log.project(pid, owner, removed)
		e.log.task(pid, "before", 0)
		e.log.removeMember(pid, removed)
		e.log.task(pid, "while away", 0)
		e.log.addMember(pid, removed)
		// The socket replays its own removal, but the user is a member now.
		c := e.dial(ctx, resume(pid, removed, 1))
		c.wantSeqs(ctx, 2, 4)
		for i := range 3 {
			e.log.task(pid, fmt.Sprint("back ", i), 0)
		}
		c.wantSeqs(ctx, 5, 7)
	})
}

// TestTokenRevocation: revoking an API token closes every socket opened
// with it — project rooms and notification streams alike — with 4401, and
// one that joins after the revocation arrived closes at once; sockets of
// other tokens and of login JWTs carry on.
func TestTokenRevocation(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{})
	ctx := testCtx(t)
	const pid, user, revoked, kept = 1, 1, 7, 8
	e.log.project(pid, user)
	withToken := func(req realtime.JoinRequest, token int64) realtime.JoinRequest {
		req.TokenID = token
		return req
	}
	inbox := realtime.JoinRequest{Kind: realtime.UserStream, ID: user, UserID: user, Username: "user1", V2: true}
	doomed := []*client{
		e.dial(ctx, withToken(member(pid, user, 0, true), revoked)),
		e.dial(ctx, withToken(member(pid, user, 0, false), revoked)),
		e.dial(ctx, withToken(inbox, revoked)),
	}
	others := []*client{
		e.dial(ctx, withToken(member(pid, user, 0, true), kept)),
		e.dial(ctx, member(pid, user, 0, true)),
	}
	// Every socket has joined once it is sent something.
	e.log.task(pid, "before", 0)
	e.log.notify(user, 1)
	for _, c := range append([]*client{doomed[0], doomed[1]}, others...) {
		c.wantSeqs(ctx, 1, 1)
	}
	if m := doomed[2].nextEvent(ctx); m.String() != "notification#1" {
		t.Fatalf("inbox got %s, want notification#1", m)
	}

	e.log.revokeToken(revoked, true)
	for i, c := range doomed {
		if got := events(c.wantClose(ctx, realtime.CloseTokenExpired)); len(got) != 0 {
			t.Errorf("socket %d: got %v before 4401", i, got)
		}
	}
	late := e.dial(ctx, withToken(member(pid, user, 1, true), revoked))
	if got := events(late.wantClose(ctx, realtime.CloseTokenExpired)); len(got) != 0 {
		t.Errorf("joined after the revocation: got %v before 4401", got)
	}
	e.log.task(pid, "after", 0)
	for _, c := range others {
		c.wantSeqs(ctx, 2, 2)
	}
}

// TestLostTokenRevocation: a revocation whose message the broker lost (an
// outage) still closes the token's sockets, once the hub's reconciler
// finds the token gone from the database.
func TestLostTokenRevocation(t *testing.T) {
	t.Parallel()
	e := newHubEnv(t, setup{opts: realtime.Options{ReconcileInterval: 20 * time.Millisecond}})
	ctx := testCtx(t)
	const pid, user, revoked = 1, 1, 7
	e.log.project(pid, user)
	req := member(pid, user, 0, true)
	req.TokenID = revoked
	c := e.dial(ctx, req)
	other := e.dial(ctx, member(pid, user, 0, true))
	e.log.task(pid, "before", 0)
	c.wantSeqs(ctx, 1, 1)
	other.wantSeqs(ctx, 1, 1)
	e.log.revokeToken(revoked, false)
	if got := events(c.wantClose(ctx, realtime.CloseTokenExpired)); len(got) != 0 {
		t.Errorf("got %v before 4401", got)
	}
	e.log.task(pid, "after", 0)
	other.wantSeqs(ctx, 2, 2)
}
