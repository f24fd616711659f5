package httpapi_test

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/taskwire/taskwire"
)

// TestSnapshotWatermark races writes against reads: every read's
// X-Event-Seq (X-Notification-Seq) must name exactly the events its body
// reflects. Each project is changed by one kind of write whose k-th event
// has seq k and leaves a mark of k in the body, so the body says which seq
// it was read at.
func TestSnapshotWatermark(t *testing.T) {
	e := newEnv(t)
	bobID, bob := e.user("bob")
	_, ada := e.user("ada")
	tasks := e.project(ada)           // k-th event: the k-th task_created
	renamed := e.project(ada)         // k-th event: project_updated to "n<k>"
	edited := e.project(ada)          // k-th event: task titled "s<k>"
	assigned := e.project(ada, bobID) // bob's k-th notification
	task := e.task(ada, edited, "s1")

	const writes = 60
	var wg sync.WaitGroup
	var stop atomic.Bool
	write := func(f func(k int)) {
		wg.Go(func() {
			for k := 1; k <= writes; k++ {
				f(k)
			}
		})
	}
	write(func(k int) { e.task(ada, tasks, "t") })
	write(func(k int) {
		e.do("PATCH", "/api/v1/projects/"+itoa(renamed), ada, map[string]string{"name": "n" + strconv.Itoa(k)})
	})
	write(func(k int) {
		e.do("PUT", "/api/v1/tasks/"+itoa(task.ID), ada, map[string]string{"title": "s" + strconv.Itoa(k+1)})
	})
	write(func(k int) {
		tk := e.task(ada, assigned, "a")
		e.do("PUT", "/api/v1/tasks/"+itoa(tk.ID), ada, map[string]any{"assignee_id": bobID})
	})

	var checks atomic.Int64
	var readers sync.WaitGroup
	seqOf := func(r response, header string) int64 {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Errorf("status %d: %s", r.Status, r.Body)
			return -1
		}
		n, err := strconv.ParseInt(r.Header.Get(header), 10, 64)
		if err != nil {
			t.Errorf("%s = %q: %v", header, r.Header.Get(header), err)
			return -1
		}
		return n
	}
	for range 4 {
		readers.Go(func() {
			for !stop.Load() {
				r := e.do("GET", "/api/v1/projects/"+itoa(tasks)+"/tasks", ada, nil)
				var ts []taskwire.Task
				r.JSON(t, &ts)
				if seq := seqOf(r, "X-Event-Seq"); int64(len(ts)) != seq {
					t.Errorf("GET tasks: %d tasks with X-Event-Seq %d", len(ts), seq)
				}

				r = e.do("GET", "/api/v1/projects/"+itoa(tasks)+"/events?since=0", ada, nil)
				var es []taskwire.Event
				r.JSON(t, &es)
				if seq := seqOf(r, "X-Event-Seq"); int64(len(es)) != seq || (seq > 0 && es[len(es)-1].Seq != seq) {
					t.Errorf("GET events: %d events with X-Event-Seq %d", len(es), seq)
				}

				r = e.do("GET", "/api/v1/projects/"+itoa(renamed), ada, nil)
				var p taskwire.Project
				r.JSON(t, &p)
				if seq := seqOf(r, "X-Event-Seq"); seq > 0 && p.Name != "n"+strconv.FormatInt(seq, 10) {
					t.Errorf("GET project: name %q with X-Event-Seq %d", p.Name, seq)
				}

				r = e.do("GET", "/api/v1/tasks/"+itoa(task.ID), ada, nil)
				var tk taskwire.Task
				r.JSON(t, &tk)
				if seq := seqOf(r, "X-Event-Seq"); tk.Title != "s"+strconv.FormatInt(seq, 10) {
					t.Errorf("GET task: title %q with X-Event-Seq %d", tk.Title, seq)
				}

				r = e.do("GET", "/api/v1/notifications", bob, nil)
				var ns []taskwire.Notification
				r.JSON(t, &ns)
				seq := seqOf(r, "X-Notification-Seq")
				if int64(len(ns)) != seq || (seq > 0 && ns[0].Seq != seq) {
					t.Errorf("GET notifications: %d notifications with X-Notification-Seq %d", len(ns), seq)
				}
				checks.Add(1)
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	if checks.Load() < 10 {
		t.Errorf("only %d rounds of reads raced the writes", checks.Load())
	}
	t.Logf("%d rounds of five reads raced %d writes", checks.Load(), 5*writes)
}
