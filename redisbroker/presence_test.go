package redisbroker

import (
	"testing"
)

// TestMarkAnnouncesOncePerUser: a user online on two instances joins with
// the first socket anywhere and leaves with the last one; an instance whose
// heartbeat expired no longer keeps anyone online.
func TestMarkAnnouncesOncePerUser(t *testing.T) {
	c, prefix := redisClient(t)
	a := NewPresence(c, prefix, "a")
	b := NewPresence(c, prefix, "b")
	for _, p := range []*Presence{a, b} {
		if err := p.Alive(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	const project, user = 7, 42
	steps := []struct {
		name         string
		on           *Presence
		conns        int
		joined, left bool
	}{
		{"first socket on a", a, 1, true, false},
		{"a second socket on a", a, 2, false, false},
		{"first socket on b", b, 1, false, false},
		{"a closes all", a, 0, false, false},
		{"b closes its last", b, 0, false, true},
		{"b closes again", b, 0, false, false},
		{"back on b", b, 1, true, false},
	}
	for _, st := range steps {
		joined, left, err := st.on.Mark(t.Context(), project, user, st.conns)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if joined != st.joined || left != st.left {
			t.Fatalf("%s: joined, left = %v, %v; want %v, %v", st.name, joined, left, st.joined, st.left)
		}
	}
	// Another user, another project: independent.
	if joined, _, err := a.Mark(t.Context(), project, user+1, 1); err != nil || !joined {
		t.Fatalf("another user: joined = %v, err = %v; want a join", joined, err)
	}
	if joined, _, err := a.Mark(t.Context(), project+1, user, 1); err != nil || !joined {
		t.Fatalf("another project: joined = %v, err = %v; want a join", joined, err)
	}

	// b "crashes": its heartbeat is gone, so its socket no longer counts
	// and a's first socket is a join again.
	if err := c.Del(t.Context(), prefix+"alive:b").Err(); err != nil {
		t.Fatal(err)
	}
	if joined, left, err := a.Mark(t.Context(), project, user, 1); err != nil || !joined || left {
		t.Fatalf("after b's heartbeat expired: joined, left = %v, %v (err %v); want a join", joined, left, err)
	}
}
