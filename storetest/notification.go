package storetest

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testNotifications(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	notify := func(t *testing.T, s taskwire.Store, userID, projectID int64, typ taskwire.NotificationType, at time.Time) taskwire.Notification {
		t.Helper()
		var n *taskwire.Notification
		update(t, s, func(tx taskwire.Tx) (err error) {
			n, err = tx.CreateNotification(t.Context(), taskwire.Notification{
				UserID: userID, Type: typ, ProjectID: projectID, ActorID: userID, CreatedAt: at,
				Data: json.RawMessage(`{"project_name":"p"}`),
			})
			return err
		})
		return *n // set by the commit
	}

	t.Run("SeqPerUserAndRoundTrip", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		var seqs []int64
		for i, u := range []taskwire.User{alice, bob, alice, alice, bob} {
			n := notify(t, s, u.ID, p.ID, taskwire.NotifyTaskAssigned, at(time.Duration(i)*time.Second))
			seqs = append(seqs, n.Seq)
			if n.ID == 0 || n.UserID != u.ID {
				t.Fatalf("created %+v", n)
			}
		}
		if want := []int64{1, 1, 2, 3, 2}; !slices.Equal(seqs, want) {
			t.Fatalf("seqs = %v, want %v", seqs, want)
		}
		got, err := s.NotificationsAfter(t.Context(), alice.ID, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 || got[0].Read || string(got[0].Data) != `{"project_name":"p"}` ||
			got[0].Type != taskwire.NotifyTaskAssigned || got[0].ProjectID != p.ID || got[0].TaskID != nil || !sameTime(got[0].CreatedAt, at(2*time.Second)) {
			t.Fatalf("NotificationsAfter(alice, 1) = %+v", got)
		}
		last, err := s.NotificationSeqs(t.Context(), []int64{alice.ID, bob.ID, bob.ID + 100})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int64]int64{alice.ID: 3, bob.ID: 2}; !maps.Equal(last, want) {
			t.Fatalf("NotificationSeqs = %v, want %v", last, want)
		}
	})

	t.Run("InboxReadAndPages", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		var ids []int64
		for i := range 5 {
			ids = append(ids, notify(t, s, alice.ID, p.ID, taskwire.NotifyMemberAdded, at(time.Duration(i)*time.Second)).ID)
		}
		theirs := notify(t, s, bob.ID, p.ID, taskwire.NotifyMemberAdded, at(0))
		all, err := s.Notifications(t.Context(), alice.ID, taskwire.NotificationFilter{}, taskwire.Page{})
		if err != nil {
			t.Fatal(err)
		}
		newestFirst := slices.Clone(ids)
		slices.Reverse(newestFirst)
		if got := notificationIDs(all); !slices.Equal(got, newestFirst) {
			t.Fatalf("inbox ids = %v, want %v", got, newestFirst)
		}
		page, err := s.Notifications(t.Context(), alice.ID, taskwire.NotificationFilter{}, taskwire.Page{Limit: 2, After: newestFirst[1]})
		if err != nil {
			t.Fatal(err)
		}
		if got := notificationIDs(page); !slices.Equal(got, newestFirst[2:4]) {
			t.Fatalf("page after %d = %v, want %v", newestFirst[1], got, newestFirst[2:4])
		}
		var read taskwire.Notification
		update(t, s, func(tx taskwire.Tx) (err error) {
			read, err = tx.MarkRead(t.Context(), alice.ID, ids[0])
			return err
		})
		if !read.Read || read.ID != ids[0] {
			t.Fatalf("MarkRead = %+v", read)
		}
		err = s.Update(t.Context(), func(tx taskwire.Tx) error {
			_, err := tx.MarkRead(t.Context(), alice.ID, theirs.ID)
			return err
		})
		wantError(t, err, taskwire.NotFound, taskwire.MsgNotificationNotFound)
		if n, err := s.UnreadCount(t.Context(), alice.ID); err != nil || n != 4 {
			t.Fatalf("UnreadCount = %d, %v; want 4", n, err)
		}
		unread, err := s.Notifications(t.Context(), alice.ID, taskwire.NotificationFilter{UnreadOnly: true}, taskwire.Page{})
		if err != nil || len(unread) != 4 || slices.Contains(notificationIDs(unread), ids[0]) {
			t.Fatalf("unread = %v, %v", notificationIDs(unread), err)
		}
		var changed int64
		update(t, s, func(tx taskwire.Tx) (err error) {
			changed, err = tx.MarkAllRead(t.Context(), alice.ID)
			return err
		})
		if changed != 4 {
			t.Fatalf("MarkAllRead changed %d, want 4", changed)
		}
		if n, _ := s.UnreadCount(t.Context(), bob.ID); n != 1 {
			t.Fatalf("bob's unread = %d, want 1 (untouched)", n)
		}
	})

	t.Run("Settings", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		got, err := s.NotificationSettings(t.Context(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range taskwire.EmailKinds {
			if !got.Email[k] {
				t.Fatalf("default settings = %v, want every kind on", got.Email)
			}
		}
		update(t, s, func(tx taskwire.Tx) error {
			return tx.PutNotificationSettings(t.Context(), alice.ID, taskwire.NotificationSettings{Email: map[taskwire.NotificationType]bool{taskwire.NotifyTaskAssigned: false}})
		})
		update(t, s, func(tx taskwire.Tx) error {
			return tx.PutNotificationSettings(t.Context(), alice.ID, taskwire.NotificationSettings{Email: map[taskwire.NotificationType]bool{taskwire.NotifyMemberAdded: true}})
		})
		got, err = s.NotificationSettings(t.Context(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Wants(taskwire.NotifyTaskAssigned) || !got.Wants(taskwire.NotifyMemberAdded) {
			t.Fatalf("settings = %v", got.Email)
		}
	})

	t.Run("ConcurrentSeqs", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() { notify(t, s, alice.ID, p.ID, taskwire.NotifyTaskUpdated, at(time.Duration(i))) })
		}
		wg.Wait()
		ns, err := s.NotificationsAfter(t.Context(), alice.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, n := range ns {
			seqs = append(seqs, n.Seq)
		}
		if !slices.Equal(seqs, seqRange(1, 40)) {
			t.Fatalf("seqs = %v, want 1..40", seqs)
		}
	})
}

func notificationIDs(ns []taskwire.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
