package main

// The checks of the crash-safety suite (crash_test.go): after the last
// restart, each project's event log, state and sockets are compared with
// the writes the clients sent and what they were answered.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// logEvent is an entry of GET /projects/{id}/events.
type logEvent struct {
	Seq       int64           `json:"seq"`
	ProjectID int64           `json:"project_id"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
}

// readerReport is what the sockets following one project received.
type readerReport struct {
	readers, resumed, deliveries int
	problems                     []string
}

// problems collects failures and reports the first ones.
type problems struct {
	list  []string
	total int
}

func (p *problems) add(format string, args ...any) {
	p.total++
	if len(p.list) < 40 {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

// regWrite is a write to one register: a field of a task or a project, a
// task's existence, a user's membership.
type regWrite[T comparable] struct {
	v   T
	out outcome
}

// allowed is what a register may hold after ws, written in this order over
// initial: the last acknowledged value (or initial), or the value of an
// unknown-outcome write after it. Refused writes change nothing.
func allowed[T comparable](initial T, ws []regWrite[T]) []T {
	vals := []T{initial}
	for _, w := range ws {
		switch w.out {
		case acked:
			vals = []T{w.v}
		case unknown:
			vals = append(vals, w.v)
		}
	}
	return vals
}

// writeIndex finds the writes that may explain an event.
type writeIndex struct {
	createByTitle map[string]*write   // titles are unique across the run
	commentByBody map[string]*write   // so are comment bodies
	byTask        map[int64][]*write  // changes and deletes, in the order the task's worker sent them
	ackedVersion  map[[2]int64]*write // {task, version} answered to an acknowledged change
	unknownByTask map[int64][]*write  // unknown-outcome changes
	used          map[*write]bool     // unknown writes already explaining an event
}

func indexWrites(log []*write) *writeIndex {
	ix := &writeIndex{
		createByTitle: map[string]*write{}, commentByBody: map[string]*write{}, byTask: map[int64][]*write{}, ackedVersion: map[[2]int64]*write{},
		unknownByTask: map[int64][]*write{}, used: map[*write]bool{},
	}
	for _, w := range log {
		switch {
		case w.kind == "create":
			ix.createByTitle[w.title] = w
		case w.kind == "comment":
			ix.commentByBody[w.title] = w
		case w.tid != 0:
			ix.byTask[w.tid] = append(ix.byTask[w.tid], w)
			if w.out == acked && w.kind != "delete" {
				ix.ackedVersion[[2]int64{w.tid, w.resp.Version}] = w
			}
			if w.out == unknown {
				ix.unknownByTask[w.tid] = append(ix.unknownByTask[w.tid], w)
			}
		}
	}
	return ix
}

// verify checks every project after the run (see the top of crash_test.go)
// and logs the summary that goes into RELIABILITY.md.
func (r *crashRun) verify(t *testing.T, cfg crashConfig, readers func(pid, last int64) readerReport) {
	var pr problems
	ix := indexWrites(r.log)
	events, comments := 0, 0
	var sockets readerReport
	var all []logEvent
	for _, pid := range r.projects {
		var evs []logEvent
		r.getJSON(fmt.Sprintf("/api/v1/projects/%d/events?since=0", pid), &evs)
		events += len(evs)
		all = append(all, evs...)
		pl := r.fold(pid, evs, ix, &pr)
		api := r.readState(pid)
		pl.compare(api, &pr)
		r.checkWrites(pl, api, &pr)
		r.checkTasks(pl, api, ix, &pr)
		r.checkComments(pl, api, ix, &pr)
		comments += pl.commented

		rep := readers(pid, pl.last)
		sockets.readers += rep.readers
		sockets.resumed += rep.resumed
		sockets.deliveries += rep.deliveries
		for _, p := range rep.problems {
			pr.add("%s", p)
		}
	}

	notes := r.checkNotifications(all, &pr)

	for _, p := range pr.list {
		t.Error(p)
	}
	if pr.total > len(pr.list) {
		t.Errorf("… and %d more problems", pr.total-len(pr.list))
	}
	counts, retried := map[outcome]int{}, 0
	for _, w := range r.log {
		counts[w.out]++
		if w.retried {
			retried++
		}
	}
	result := "ok"
	if t.Failed() {
		result = fmt.Sprintf("FAILED (%d problems)", pr.total)
	}
	t.Logf("crash safety: %d instance(s), %d rounds of kill -9, seed %d: %d writes acknowledged (%d of them after an idempotent retry), "+
		"%d unknown outcome (%d of them 5xx), %d refused; %d events (%d comments) checked in %d projects; "+
		"%d socket readers (%d resumed), %d deliveries checked; %d notifications of %d users checked; result %s",
		len(r.fleet.urls), cfg.rounds, cfg.seed, counts[acked], retried, counts[unknown], r.errs5.Load(), counts[rejected],
		events, comments, len(r.projects), sockets.readers, sockets.resumed, sockets.deliveries, notes, len(r.users), result)
}

// checkNotifications holds each churned user's inbox against the logs: the
// user's notifications are numbered 1..N with no gap or repeat, and every
// member_added and member_removed event about them has its notification
// (the owner's action, committed in the same transaction), and no more.
// It returns how many notifications it read.
func (r *crashRun) checkNotifications(evs []logEvent, pr *problems) int {
	type key struct {
		user int64
		typ  string
	}
	want := map[key]int{}
	for _, e := range evs {
		if e.Event != "member_added" && e.Event != "member_removed" {
			continue
		}
		var d struct {
			UserID int64 `json:"user_id"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			pr.add("project %d seq %d: %s data %s: %v", e.ProjectID, e.Seq, e.Event, e.Data, err)
			continue
		}
		want[key{d.UserID, e.Event}]++
	}
	read := 0
	for _, u := range r.users {
		var inbox []struct {
			Seq  int64  `json:"seq"`
			Type string `json:"type"`
		}
		r.getJSONAs(r.userToks[u], "/api/v1/notifications", &inbox)
		read += len(inbox)
		seqs := make([]int64, len(inbox))
		got := map[string]int{}
		for i, n := range inbox { // newest first
			seqs[len(inbox)-1-i] = n.Seq
			got[n.Type]++
		}
		if p := seqProblem(seqs, int64(len(inbox))); p != "" {
			pr.add("user %d's notifications: %s", u, p)
		}
		for _, typ := range []string{"member_added", "member_removed"} {
			if got[typ] != want[key{u, typ}] {
				pr.add("user %d has %d %s notifications; the logs have %d such events", u, got[typ], typ, want[key{u, typ}])
			}
		}
	}
	return read
}

// apiState is a project as the API shows it after the run.
type apiState struct {
	list    []taskBody
	tasks   map[int64]taskBody
	members map[int64]bool
	name    string
}

func (r *crashRun) readState(pid int64) apiState {
	s := apiState{tasks: map[int64]taskBody{}, members: map[int64]bool{}}
	r.getJSON(fmt.Sprintf("/api/v1/projects/%d/tasks", pid), &s.list)
	for _, tk := range s.list {
		s.tasks[tk.ID] = tk
	}
	var p struct {
		Name    string `json:"name"`
		Members []struct {
			UserID int64 `json:"user_id"`
		} `json:"members"`
	}
	r.getJSON(fmt.Sprint("/api/v1/projects/", pid), &p)
	for _, m := range p.Members {
		s.members[m.UserID] = true
	}
	s.name = p.Name
	return s
}

// projectLog is a project's event log folded into the state it implies.
type projectLog struct {
	pid          int64
	last         int64 // the highest seq
	state        map[int64]taskBody
	created      map[int64]bool
	titles       map[string]int        // task_created events by title
	logged       map[[2]int64]taskBody // every {task, version} the log holds
	assignedAt   map[int64]int64       // the seq that last changed each task's assignee
	deleted      map[int64]int         // task_deleted events by task
	members      map[int64]bool
	memberEvents map[[2]int64]int // {user, +1 added / -1 removed}
	renamed      map[string]int   // project_updated events by name
	name         string
	comments     map[int64][]string // comment_added bodies by task, of the tasks not deleted
	commented    int                // comment_added events
}

// fold replays the log, checking that seq runs 1..N and that each event
// follows from the state before it and from a write a client sent.
func (r *crashRun) fold(pid int64, evs []logEvent, ix *writeIndex, pr *problems) *projectLog {
	pl := &projectLog{
		pid: pid, state: map[int64]taskBody{}, created: map[int64]bool{}, titles: map[string]int{},
		logged: map[[2]int64]taskBody{}, assignedAt: map[int64]int64{}, deleted: map[int64]int{},
		members: map[int64]bool{r.ownerID: true}, memberEvents: map[[2]int64]int{}, renamed: map[string]int{},
		name: r.names[pid], comments: map[int64][]string{},
	}
	seqs := make([]int64, len(evs))
	for i, e := range evs {
		seqs[i] = e.Seq
		pl.last = max(pl.last, e.Seq, int64(len(evs)))
		if e.ProjectID != pid {
			pr.add("project %d: event seq %d belongs to project %d", pid, e.Seq, e.ProjectID)
		}
	}
	if p := seqProblem(seqs, pl.last); p != "" {
		pr.add("project %d: event log: %s", pid, p)
	}

	for i, e := range evs {
		var d taskBody
		switch e.Event {
		case "task_created", "status_changed", "task_updated":
			if err := json.Unmarshal(e.Data, &d); err != nil {
				pr.add("project %d seq %d: %s data %s: %v", pid, e.Seq, e.Event, e.Data, err)
				continue
			}
			if prev, ok := pl.state[d.ID]; d.AssigneeID != nil && !pl.members[*d.AssigneeID] && (!ok || !equalPtr(prev.AssigneeID, d.AssigneeID)) {
				pr.add("project %d seq %d: %s assigns task %s to user %d, not a member at that point of the log", pid, e.Seq, e.Event, d, *d.AssigneeID)
			}
		}
		var ref struct {
			ID     int64  `json:"id"`
			UserID int64  `json:"user_id"`
			Name   string `json:"name"`
		}
		_ = json.Unmarshal(e.Data, &ref)
		switch e.Event {
		case "task_created":
			pl.assignedAt[d.ID] = e.Seq
			if pl.created[d.ID] {
				pr.add("project %d seq %d: task %d created a second time: %s", pid, e.Seq, d.ID, d)
			}
			pl.created[d.ID] = true
			if pl.titles[d.Title]++; pl.titles[d.Title] == 2 {
				pr.add("project %d seq %d: a second task_created with title %q (a create done twice): %s", pid, e.Seq, d.Title, d)
			}
			if d.Version != 1 {
				pr.add("project %d seq %d: task_created %s with version %d", pid, e.Seq, d, d.Version)
			}
			switch w := ix.createByTitle[d.Title]; {
			case w == nil || w.out == rejected:
				pr.add("project %d seq %d: task_created %s matches no create that may have committed (%v)", pid, e.Seq, d, w)
			case w.out == acked && !w.resp.same(d):
				pr.add("project %d seq %d: task_created %s differs from the acknowledged answer %s", pid, e.Seq, d, w.resp)
			case w.out == unknown && (!equalPtr(w.due, d.DueAt) || !slices.Equal(w.labels, d.Labels)):
				pr.add("project %d seq %d: task_created %s with due date %v and labels %q, but the create sent %v and %q",
					pid, e.Seq, d, d.DueAt, d.Labels, w.due, w.labels)
			case w.out == unknown:
				w.tid = d.ID // the create committed: its task is now known
			}
			pl.state[d.ID] = d
			pl.logged[[2]int64{d.ID, d.Version}] = d
		case "status_changed", "task_updated":
			prev, ok := pl.state[d.ID]
			if !ok {
				pr.add("project %d seq %d: %s of task %d, which does not exist at that point", pid, e.Seq, e.Event, d.ID)
				pl.state[d.ID] = d
				continue
			}
			if d.Version != prev.Version+1 {
				pr.add("project %d seq %d: %s of task %d to version %d, after version %d", pid, e.Seq, e.Event, d.ID, d.Version, prev.Version)
			}
			if !ix.explain(e, evs[i+1:], prev, d) {
				pr.add("project %d seq %d: %s %s (was %s) matches no request a client sent that may have committed", pid, e.Seq, e.Event, d, prev)
			}
			if !equalPtr(prev.AssigneeID, d.AssigneeID) {
				pl.assignedAt[d.ID] = e.Seq
			}
			pl.state[d.ID] = d
			pl.logged[[2]int64{d.ID, d.Version}] = d
		case "task_deleted":
			if _, ok := pl.state[ref.ID]; !ok {
				pr.add("project %d seq %d: task_deleted of task %d, which does not exist at that point", pid, e.Seq, ref.ID)
			}
			delete(pl.state, ref.ID)
			delete(pl.comments, ref.ID)
			pl.deleted[ref.ID]++
			if !slices.ContainsFunc(ix.byTask[ref.ID], func(w *write) bool { return w.kind == "delete" && w.out != rejected }) {
				pr.add("project %d seq %d: task_deleted of task %d, which no client asked to delete", pid, e.Seq, ref.ID)
			}
		case "member_added", "member_removed":
			add, sign := e.Event == "member_added", int64(1)
			if pl.members[ref.UserID] == add {
				pr.add("project %d seq %d: %s of user %d, whose membership was already %v", pid, e.Seq, e.Event, ref.UserID, add)
			}
			pl.members[ref.UserID] = add
			if !add {
				sign = -1
				for _, tk := range pl.state {
					if equalPtr(tk.AssigneeID, &ref.UserID) {
						pr.add("project %d seq %d: user %d removed without unassigning task %s, assigned to them at seq %d",
							pid, e.Seq, ref.UserID, tk, pl.assignedAt[tk.ID])
					}
				}
			}
			pl.memberEvents[[2]int64{ref.UserID, sign}]++
		case "project_updated":
			pl.name = ref.Name
			pl.renamed[ref.Name]++
		case "comment_added":
			pl.foldComment(e, ix, pr)
		default:
			pr.add("project %d seq %d: unexpected event %s", pid, e.Seq, e.Event)
		}
	}
	return pl
}

// foldComment checks a comment_added event: on a task that exists, from
// a comment request that may have committed, and the only event of it.
func (pl *projectLog) foldComment(e logEvent, ix *writeIndex, pr *problems) {
	var c struct {
		TaskID int64  `json:"task_id"`
		Body   string `json:"body"`
	}
	_ = json.Unmarshal(e.Data, &c)
	if _, ok := pl.state[c.TaskID]; !ok {
		pr.add("project %d seq %d: comment_added on task %d, which does not exist at that point", pl.pid, e.Seq, c.TaskID)
	}
	if w := ix.commentByBody[c.Body]; w == nil || w.out == rejected || w.tid != c.TaskID {
		pr.add("project %d seq %d: comment_added %q on task %d matches no comment that may have committed (%v)", pl.pid, e.Seq, c.Body, c.TaskID, w)
	}
	if slices.Contains(pl.comments[c.TaskID], c.Body) {
		pr.add("project %d seq %d: comment %q added a second time", pl.pid, e.Seq, c.Body)
	}
	pl.comments[c.TaskID] = append(pl.comments[c.TaskID], c.Body)
	pl.commented++
}

// checkComments compares each remaining task's comments with the log's,
// and requires every acknowledged comment on a remaining task among them.
func (r *crashRun) checkComments(pl *projectLog, api apiState, ix *writeIndex, pr *problems) {
	for id := range api.tasks {
		var cs []struct {
			Body string `json:"body"`
		}
		r.getJSON(fmt.Sprintf("/api/v1/tasks/%d/comments", id), &cs)
		var got []string
		for _, c := range cs {
			got = append(got, c.Body)
		}
		if !slices.Equal(got, pl.comments[id]) {
			pr.add("task %d: comments %q, the log's %q", id, got, pl.comments[id])
		}
	}
	for _, w := range ix.commentByBody {
		if _, ok := api.tasks[w.tid]; ok && w.pid == pl.pid && w.out == acked && !slices.Contains(pl.comments[w.tid], w.title) {
			pr.add("%s: acknowledged, but not among the task's comments", w)
		}
	}
}

// explain reports whether the change from prev to d (event e, followed by
// the events after) is the effect of a request: an acknowledged one whose
// answer is d, an unknown-outcome one (each explains one event at most)
// that turns prev into d, or the unassignment that removing the assignee
// from the project performs in the same transaction.
func (ix *writeIndex) explain(e logEvent, after []logEvent, prev, d taskBody) bool {
	if w, ok := ix.ackedVersion[[2]int64{d.ID, d.Version}]; ok {
		return w.resp.same(d)
	}
	for _, w := range ix.unknownByTask[d.ID] {
		next := prev
		next.Version++
		switch {
		case ix.used[w]:
			continue
		case w.kind == "status" && e.Event == "status_changed":
			next.Status = w.status
		case w.kind == "update" && e.Event == "task_updated":
			next.Title, next.Description, next.DueAt, next.Labels = w.title, w.desc, w.due, w.labels
		case w.kind == "assign" && e.Event == "task_updated":
			next.AssigneeID = w.assignee
		default:
			continue
		}
		if next.same(d) {
			ix.used[w] = true
			return true
		}
	}
	// Removing a member unassigns their tasks: task_updated events, then
	// member_removed, in one transaction.
	next := prev
	next.Version++
	next.AssigneeID = nil
	if e.Event != "task_updated" || prev.AssigneeID == nil || !next.same(d) {
		return false
	}
	for _, f := range after {
		if f.Event == "task_updated" {
			continue
		}
		var ref struct {
			UserID int64 `json:"user_id"`
		}
		_ = json.Unmarshal(f.Data, &ref)
		return f.Event == "member_removed" && ref.UserID == *prev.AssigneeID
	}
	return false
}

// compare checks that the state the API shows is the fold of the log, and
// that every assignee is a member.
func (pl *projectLog) compare(api apiState, pr *problems) {
	for _, tk := range api.list {
		if want, ok := pl.state[tk.ID]; !ok {
			pr.add("project %d: task %s is in the database but the log says it does not exist", pl.pid, tk)
		} else if !want.same(tk) {
			pr.add("project %d: task in the database %s, the log's last event says %s", pl.pid, tk, want)
		}
		if tk.AssigneeID != nil && !api.members[*tk.AssigneeID] {
			pr.add("project %d: task %s is assigned to user %d, who is not a member (assigned at seq %d)", pl.pid, tk, *tk.AssigneeID, pl.assignedAt[tk.ID])
		}
	}
	for id, tk := range pl.state {
		if _, ok := api.tasks[id]; !ok {
			pr.add("project %d: task %s exists per the log but not in the database", pl.pid, tk)
		}
	}
	for u, in := range pl.members {
		if in != api.members[u] {
			pr.add("project %d: user %d member per the log: %v, per the database: %v", pl.pid, u, in, api.members[u])
		}
	}
	for u := range api.members {
		if !pl.members[u] {
			pr.add("project %d: user %d is a member in the database, not per the log", pl.pid, u)
		}
	}
	if api.name != pl.name {
		pr.add("project %d: name %q in the database, %q per the log", pl.pid, api.name, pl.name)
	}
}

// checkWrites checks that every acknowledged write of the project has its
// event, that no refused one has, that an unknown-outcome one has at most
// one, and that memberships and the name end as the writes allow.
func (r *crashRun) checkWrites(pl *projectLog, api apiState, pr *problems) {
	memberWrites := map[int64][]regWrite[bool]{}
	var nameWrites []regWrite[string]
	memberCount := map[[2]int64][2]int{} // {user, sign} → {acknowledged, unknown}
	for _, w := range r.log {
		if w.pid != pl.pid {
			continue
		}
		switch w.kind {
		case "create":
			switch n := pl.titles[w.title]; {
			case w.out == acked && (n != 1 || !pl.created[w.tid]), w.out == unknown && n > 1, w.out == rejected && n != 0:
				pr.add("%s: %d task_created events with its title", w, n)
			}
		case "status", "update", "assign":
			if ev, ok := pl.logged[[2]int64{w.tid, w.resp.Version}]; w.out == acked && (!ok || !ev.same(w.resp)) {
				pr.add("%s: the log has no event with this version of the task (it has %v)", w, ev)
			}
		case "delete":
			if w.out == acked && pl.deleted[w.tid] != 1 {
				pr.add("%s: %d task_deleted events, want 1", w, pl.deleted[w.tid])
			}
		case "add_member", "remove_member":
			add, sign := w.kind == "add_member", int64(1)
			if !add {
				sign = -1
			}
			memberWrites[w.user] = append(memberWrites[w.user], regWrite[bool]{add, w.out})
			c := memberCount[[2]int64{w.user, sign}]
			switch w.out {
			case acked:
				c[0]++
			case unknown:
				c[1]++
			}
			memberCount[[2]int64{w.user, sign}] = c
		case "rename":
			nameWrites = append(nameWrites, regWrite[string]{w.name, w.out})
			switch n := pl.renamed[w.name]; {
			case w.out == acked && n != 1, w.out == unknown && n > 1, w.out == rejected && n != 0:
				pr.add("%s: %d project_updated events with its name", w, n)
			}
		}
	}
	for _, u := range r.users {
		for sign, ev := range map[int64]string{1: "member_added", -1: "member_removed"} {
			c, n := memberCount[[2]int64{u, sign}], pl.memberEvents[[2]int64{u, sign}]
			if n < c[0] || n > c[0]+c[1] {
				pr.add("project %d user %d: %d %s events for %d acknowledged and %d unknown-outcome requests", pl.pid, u, n, ev, c[0], c[1])
			}
		}
		if v := allowed(false, memberWrites[u]); !slices.Contains(v, api.members[u]) {
			pr.add("project %d user %d: member %v, want one of %v (the last acknowledged change or a later unknown one)", pl.pid, u, api.members[u], v)
		}
	}
	if v := allowed(r.names[pl.pid], nameWrites); !slices.Contains(v, api.name) {
		pr.add("project %d: name %q, want one of %q", pl.pid, api.name, v)
	}
}

// checkTasks checks each task's existence, title and status against its
// writes: the last acknowledged value or a later unknown-outcome one.
func (r *crashRun) checkTasks(pl *projectLog, api apiState, ix *writeIndex, pr *problems) {
	for _, cw := range ix.createByTitle {
		if cw.pid != pl.pid || cw.tid == 0 {
			continue // another project's, or an unknown create that did not commit
		}
		exists := []regWrite[bool]{{true, cw.out}}
		titles := []regWrite[string]{{cw.title, cw.out}}
		statuses := []regWrite[string]{{cw.status, cw.out}}
		ws := ix.byTask[cw.tid]
		for _, w := range ws {
			switch w.kind {
			case "delete":
				exists = append(exists, regWrite[bool]{false, w.out})
			case "update":
				titles = append(titles, regWrite[string]{w.title, w.out})
			case "status":
				statuses = append(statuses, regWrite[string]{w.status, w.out})
			}
		}
		final, ok := api.tasks[cw.tid]
		if v := allowed(false, exists); !slices.Contains(v, ok) {
			pr.add("task %d of %s: exists %v, want one of %v; its writes: %s", cw.tid, cw, ok, v, describeWrites(ws))
		}
		if !ok {
			continue
		}
		if v := allowed("", titles); !slices.Contains(v, final.Title) {
			pr.add("task %s: title %q, want one of %q; its writes: %s", final, final.Title, v, describeWrites(ws))
		}
		if v := allowed("", statuses); !slices.Contains(v, final.Status) {
			pr.add("task %s: status %q, want one of %q; its writes: %s", final, final.Status, v, describeWrites(ws))
		}
	}
}

func describeWrites(ws []*write) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s [HTTP %d]", w, w.code))
	}
	if len(parts) > 12 {
		parts = append(parts[:2], append([]string{"…"}, parts[len(parts)-10:]...)...)
	}
	return strings.Join(parts, "; ")
}

// seqProblem describes how got differs from 1..n, or returns "".
func seqProblem(got []int64, n int64) string {
	if int64(len(got)) == n {
		ok := true
		for i, s := range got {
			ok = ok && s == int64(i)+1
		}
		if ok {
			return ""
		}
	}
	seen := map[int64]int{}
	var dups, missing, out []int64
	first := -1
	for i, s := range got {
		seen[s]++
		if seen[s] == 2 {
			dups = append(dups, s)
		}
		if s < 1 || s > n {
			out = append(out, s)
		}
		if first < 0 && s != int64(i)+1 {
			first = i
		}
	}
	for s := int64(1); s <= n; s++ {
		if seen[s] == 0 {
			missing = append(missing, s)
		}
	}
	msg := fmt.Sprintf("got %d seqs, want 1..%d exactly once in order; missing %s, duplicated %s, outside %s",
		len(got), n, short(missing), short(dups), short(out))
	if first >= 0 {
		msg += fmt.Sprintf("; first wrong at position %d: %s", first, short(got[first:min(len(got), first+10)]))
	}
	return msg
}

func short(s []int64) string {
	if len(s) > 20 {
		return fmt.Sprintf("%v… (%d)", s[:20], len(s))
	}
	return fmt.Sprint(s)
}
