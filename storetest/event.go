package storetest

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testEvents(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("SeqPerProject", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p1, p2 := createProject(t, s, alice, "p1"), createProject(t, s, alice, "p2")
		// Interleaved appends: each project counts on its own.
		order := []struct {
			project int64
			want    int64
		}{
			{p1.ID, 1}, {p2.ID, 1}, {p1.ID, 2}, {p1.ID, 3}, {p2.ID, 2}, {p1.ID, 4},
		}
		for i, step := range order {
			e := appendEvent(t, s, step.project, alice.ID, at(time.Duration(i)*time.Second), i)
			if e.Seq != step.want || e.ProjectID != step.project {
				t.Fatalf("append %d: got project %d seq %d, want project %d seq %d", i, e.ProjectID, e.Seq, step.project, step.want)
			}
		}
		for _, c := range []struct {
			name string
			id   int64
			last int64
		}{{"P1", p1.ID, 4}, {"P2", p2.ID, 2}} {
			t.Run(c.name, func(t *testing.T) {
				if got := eventSeqs(t, s, c.id, 0, 0); !slices.Equal(got, seqRange(1, c.last)) {
					t.Errorf("seqs = %v, want 1..%d", got, c.last)
				}
				p, err := s.Project(t.Context(), c.id)
				if err != nil {
					t.Fatal(err)
				}
				if p.LastSeq != c.last {
					t.Errorf("LastSeq = %d, want %d", p.LastSeq, c.last)
				}
			})
		}
	})

	t.Run("LastSeqs", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p1, p2, p3 := createProject(t, s, alice, "p1"), createProject(t, s, alice, "p2"), createProject(t, s, alice, "p3")
		for i := range 3 {
			appendEvent(t, s, p1.ID, alice.ID, at(time.Duration(i)*time.Second), i)
		}
		appendEvent(t, s, p2.ID, alice.ID, at(0), 0)
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteProject(t.Context(), p3.ID) })
		// More ids than one chunk of bound parameters, most of them unknown.
		ids := []int64{p1.ID, p2.ID, p3.ID}
		for i := range int64(1200) {
			ids = append(ids, p3.ID+1000+i)
		}
		got, err := s.LastSeqs(t.Context(), ids)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]int64{p1.ID: 3, p2.ID: 1}
		if !maps.Equal(got, want) {
			t.Fatalf("LastSeqs = %v, want %v (deleted and unknown projects absent)", got, want)
		}
		if got, err := s.LastSeqs(t.Context(), nil); err != nil || len(got) != 0 {
			t.Fatalf("LastSeqs(nil) = %v, %v; want empty", got, err)
		}
	})

	t.Run("SeveralInOneUnit", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		appendEvent(t, s, p.ID, alice.ID, at(0), 0)
		var got []int64
		update(t, s, func(tx taskwire.Tx) error {
			for i := range 3 {
				e, err := tx.AppendEvent(t.Context(), newEvent(p.ID, alice.ID, at(time.Second), i))
				if err != nil {
					return err
				}
				got = append(got, e.Seq)
			}
			// The unit reads its own appends.
			if seqs := eventSeqs(t, tx, p.ID, 0, 0); !slices.Equal(seqs, seqRange(1, 4)) {
				t.Errorf("Events inside the unit = %v, want 1..4", seqs)
			}
			return nil
		})
		if !slices.Equal(got, []int64{2, 3, 4}) {
			t.Fatalf("seqs appended in one unit = %v, want [2 3 4]", got)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		in := []taskwire.Event{
			{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskCreated, TS: at(0),
				Data: json.RawMessage(`{"id":1,"title":"ünïcødé \"quoted\" <tag> & \u2028","description":null,"n":12345678901234567}`)},
			{ProjectID: p.ID, ActorID: bob.ID, Type: taskwire.EventMemberRemoved, TS: at(time.Minute + time.Nanosecond),
				Data: json.RawMessage(`{"project_id":1,"user_id":2}`)},
			{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventProjectUpdated, TS: at(time.Hour).UTC(),
				Data: json.RawMessage(`[1,"two",{"three":3.5},true,null]`)},
		}
		var appended []taskwire.Event
		for i, e := range in {
			update(t, s, func(tx taskwire.Tx) error {
				got, err := tx.AppendEvent(t.Context(), e)
				if err != nil {
					return err
				}
				want := e
				want.Seq = int64(i + 1)
				checkEvent(t, got, want)
				appended = append(appended, got)
				return nil
			})
		}
		es, err := s.Events(t.Context(), p.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(in) {
			t.Fatalf("Events returned %d events, want %d", len(es), len(in))
		}
		for i := range es {
			want := in[i]
			want.Seq = int64(i + 1)
			checkEvent(t, es[i], want)
			// What AppendEvent returned is what readers see.
			if !es[i].TS.Equal(appended[i].TS) {
				t.Errorf("event %d: read TS %v, AppendEvent returned %v", i+1, es[i].TS, appended[i].TS)
			}
		}
	})

	t.Run("Since", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p, other, empty := createProject(t, s, alice, "p"), createProject(t, s, alice, "other"), createProject(t, s, alice, "empty")
		for i := range 5 {
			appendEvent(t, s, p.ID, alice.ID, at(time.Duration(i)*time.Second), i)
			appendEvent(t, s, other.ID, alice.ID, at(time.Duration(i)*time.Second), i)
		}
		tests := []struct {
			name      string
			projectID int64
			since     int64
			limit     int
			want      []int64
		}{
			{"All", p.ID, 0, 0, seqRange(1, 5)},
			{"AfterSeq", p.ID, 2, 0, []int64{3, 4, 5}},
			{"Limit", p.ID, 0, 2, []int64{1, 2}},
			{"AfterSeqWithLimit", p.ID, 1, 3, []int64{2, 3, 4}},
			{"LimitBeyondEnd", p.ID, 3, 10, []int64{4, 5}},
			{"AtLast", p.ID, 5, 0, []int64{}},
			{"BeyondLast", p.ID, 99, 0, []int64{}},
			{"NoEvents", empty.ID, 0, 0, []int64{}},
			{"NoSuchProject", empty.ID + 100, 0, 0, []int64{}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := eventSeqs(t, s, tc.projectID, tc.since, tc.limit); !slices.Equal(got, tc.want) {
					t.Fatalf("Events(since %d, limit %d) = %v, want %v", tc.since, tc.limit, got, tc.want)
				}
			})
		}
	})

	t.Run("FirstEventSince", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p, empty := createProject(t, s, alice, "p"), createProject(t, s, alice, "empty")
		for i := range 3 {
			appendEvent(t, s, p.ID, alice.ID, at(time.Duration(i)*time.Minute), i)
		}
		tests := []struct {
			name      string
			projectID int64
			t         time.Time
			want      int64
		}{
			{"BeforeAll", p.ID, at(-time.Hour), 1},
			{"AtFirst", p.ID, at(0), 1},
			{"AtFirstInUTC", p.ID, at(0).UTC(), 1},
			{"JustAfterFirst", p.ID, at(time.Microsecond), 2},
			{"BetweenFirstAndSecond", p.ID, at(30 * time.Second), 2},
			{"AtSecond", p.ID, at(time.Minute), 2},
			{"AtLast", p.ID, at(2 * time.Minute), 3},
			{"AfterLast", p.ID, at(2*time.Minute + time.Microsecond), 0},
			{"NoEvents", empty.ID, at(-time.Hour), 0},
			{"NoSuchProject", empty.ID + 100, at(-time.Hour), 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.FirstEventSince(t.Context(), tc.projectID, tc.t)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("FirstEventSince(%v) = %d, want %d", tc.t, got, tc.want)
				}
			})
		}
	})

	t.Run("AppendToMissingProject", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		missing := p.ID + 100
		err := s.Update(t.Context(), func(tx taskwire.Tx) error {
			_, err := tx.AppendEvent(t.Context(), newEvent(missing, alice.ID, at(0), 0))
			return err
		})
		if err == nil {
			t.Fatal("AppendEvent to a project that does not exist: err = nil")
		}
		if got := eventSeqs(t, s, missing, 0, 0); len(got) != 0 {
			t.Fatalf("events of a missing project: %v, want none", got)
		}
	})
}

func checkEvent(t *testing.T, got, want taskwire.Event) {
	t.Helper()
	if got.Seq != want.Seq || got.ProjectID != want.ProjectID || got.Type != want.Type || got.ActorID != want.ActorID {
		t.Errorf("event = {seq %d project %d %s actor %d}, want {seq %d project %d %s actor %d}",
			got.Seq, got.ProjectID, got.Type, got.ActorID, want.Seq, want.ProjectID, want.Type, want.ActorID)
	}
	if !sameTime(got.TS, want.TS) {
		t.Errorf("event %d TS = %v, want %v", got.Seq, got.TS, want.TS)
	}
	if !jsonEqual(got.Data, want.Data) {
		t.Errorf("event %d Data = %s, want %s", got.Seq, got.Data, want.Data)
	}
}
