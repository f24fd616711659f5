package realtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// fakeLog is an in-memory realtime.Source: an event log and the members of
// each project, and each user's notifications. Its writes publish to the
// broker under its lock, so publishes are in commit order, as a single
// writer's are.
type fakeLog struct {
	pub realtime.Broker

	// stall holds up the reads it is set on ("Replay", "LastSeqs").
	stall stall

	mu       sync.Mutex // guards the fields below
	projects map[int64]*fakeProject
	inboxes  map[int64][]taskwire.Notification
	revoked  map[int64]bool // API tokens that no longer exist
}

// fakeProject is one project's log. events holds the retained events,
// oldest first; events before them were pruned.
type fakeProject struct {
	last    int64
	events  []taskwire.Event
	members map[int64]bool
	deleted bool
}

var _ realtime.Source = (*fakeLog)(nil)

func newFakeLog(pub realtime.Broker) *fakeLog {
	return &fakeLog{pub: pub, projects: map[int64]*fakeProject{}, inboxes: map[int64][]taskwire.Notification{}, revoked: map[int64]bool{}}
}

// project creates a project with members and no events.
func (l *fakeLog) project(id int64, members ...int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := &fakeProject{members: map[int64]bool{}}
	for _, m := range members {
		p.members[m] = true
	}
	l.projects[id] = p
}

// commit appends an event and publishes it, as the service does after a
// commit; membership follows the member and project events.
func (l *fakeLog) commit(projectID int64, typ taskwire.EventType, data any) taskwire.Event {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.projects[projectID]
	p.last++
	e := taskwire.Event{Seq: p.last, ProjectID: projectID, Type: typ, Data: raw, TS: time.Now(), ActorID: 1}
	p.events = append(p.events, e)
	var who struct {
		UserID int64 `json:"user_id"`
	}
	_ = json.Unmarshal(raw, &who)
	switch typ {
	case taskwire.EventMemberAdded:
		p.members[who.UserID] = true
	case taskwire.EventMemberRemoved:
		p.members[who.UserID] = false
	case taskwire.EventProjectDeleted:
		p.deleted = true
	}
	l.pub.Publish(realtime.EventMessage(e))
	return e
}

// task commits a task_created event whose description is pad bytes long.
func (l *fakeLog) task(projectID int64, title string, pad int) taskwire.Event {
	return l.commit(projectID, taskwire.EventTaskCreated, map[string]any{
		"project_id": projectID, "title": title, "status": "todo", "description": strings.Repeat("x", pad),
	})
}

func (l *fakeLog) removeMember(projectID, userID int64) taskwire.Event {
	return l.commit(projectID, taskwire.EventMemberRemoved, map[string]int64{"project_id": projectID, "user_id": userID})
}

func (l *fakeLog) addMember(projectID, userID int64) taskwire.Event {
	return l.commit(projectID, taskwire.EventMemberAdded, map[string]any{"project_id": projectID, "user_id": userID, "user": map[string]any{"id": userID}})
}

func (l *fakeLog) deleteProject(projectID int64) taskwire.Event {
	return l.commit(projectID, taskwire.EventProjectDeleted, map[string]int64{"id": projectID})
}

// retain prunes all but the newest keep events of a project.
func (l *fakeLog) retain(projectID int64, keep int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.projects[projectID]
	if len(p.events) > keep {
		p.events = append([]taskwire.Event(nil), p.events[len(p.events)-keep:]...)
	}
}

// notify appends a notification to a user's inbox and publishes it.
func (l *fakeLog) notify(userID, projectID int64) taskwire.Notification {
	l.mu.Lock()
	defer l.mu.Unlock()
	box := l.inboxes[userID]
	n := taskwire.Notification{ID: int64(len(box) + 1), UserID: userID, Seq: int64(len(box) + 1), Type: "task_assigned",
		ProjectID: projectID, ActorID: 1, CreatedAt: time.Now(), Data: json.RawMessage(`{}`)}
	l.inboxes[userID] = append(box, n)
	l.pub.Publish(realtime.NotificationMessage(n))
	return n
}

// LastSeq implements realtime.Source.
func (l *fakeLog) LastSeq(_ context.Context, projectID int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.projects[projectID]
	if p == nil || p.deleted {
		return 0, taskwire.Errorf(taskwire.NotFound, "Project not found")
	}
	return p.last, nil
}

// LastSeqs implements realtime.Source: a deleted project is left out.
func (l *fakeLog) LastSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	if err := l.stall.wait(ctx, "LastSeqs"); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]int64{}
	for _, id := range ids {
		if p := l.projects[id]; p != nil && !p.deleted {
			out[id] = p.last
		}
	}
	return out, nil
}

// Replay implements realtime.Source with the service's retention rule: a
// since before the oldest retained event is gone, unless nothing follows
// it. A deleted project's events are returned as they are.
func (l *fakeLog) Replay(ctx context.Context, projectID, since int64, limit int) ([]taskwire.Event, error) {
	if err := l.stall.wait(ctx, "Replay"); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.projects[projectID]
	if p == nil {
		return nil, nil
	}
	oldest := p.last + 1
	if len(p.events) > 0 {
		oldest = p.events[0].Seq
	}
	if !p.deleted && since+1 < oldest && since < p.last {
		return nil, &taskwire.GoneError{OldestSeq: oldest}
	}
	var out []taskwire.Event
	for _, e := range p.events {
		if e.Seq > since && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// IsMember implements realtime.Source.
func (l *fakeLog) IsMember(_ context.Context, projectID, userID int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.projects[projectID]
	return p != nil && !p.deleted && p.members[userID], nil
}

// NotificationSeq implements realtime.Source.
func (l *fakeLog) NotificationSeq(_ context.Context, userID int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.inboxes[userID])), nil
}

// NotificationSeqs implements realtime.Source.
func (l *fakeLog) NotificationSeqs(_ context.Context, ids []int64) (map[int64]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]int64{}
	for _, id := range ids {
		out[id] = int64(len(l.inboxes[id]))
	}
	return out, nil
}

// revokeToken deletes an API token; publish says whether its revocation
// is published, as the service does after the commit, or lost.
func (l *fakeLog) revokeToken(id int64, publish bool) {
	l.mu.Lock()
	l.revoked[id] = true
	l.mu.Unlock()
	if publish {
		l.pub.Publish(realtime.Message{Kind: realtime.TokenRevoked, ID: id})
	}
}

// LiveAPITokens implements realtime.Source: every token is live until
// revokeToken.
func (l *fakeLog) LiveAPITokens(_ context.Context, ids []int64) (map[int64]bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]bool{}
	for _, id := range ids {
		if !l.revoked[id] {
			out[id] = true
		}
	}
	return out, nil
}

// ReplayNotifications implements realtime.Source.
func (l *fakeLog) ReplayNotifications(_ context.Context, userID, since int64, limit int) ([]taskwire.Notification, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []taskwire.Notification
	for _, n := range l.inboxes[userID] {
		if n.Seq > since && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

// stall makes the calls it is set on wait until their context ends: a
// dependency that hangs. It counts those calls and those under way.
type stall struct {
	mu       sync.Mutex // guards the fields below
	ops      map[string]bool
	calls    int
	inFlight int
}

// set stalls every later call to op.
func (s *stall) set(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops == nil {
		s.ops = map[string]bool{}
	}
	s.ops[op] = true
}

// wait returns nil at once unless op is stalled; then it returns ctx's
// error when ctx ends.
func (s *stall) wait(ctx context.Context, op string) error {
	s.mu.Lock()
	if !s.ops[op] {
		s.mu.Unlock()
		return nil
	}
	s.calls++
	s.inFlight++
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	return ctx.Err()
}

// counts returns the stalled calls made and those still under way.
func (s *stall) counts() (calls, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.inFlight
}

// lossyBroker is a MemoryBroker whose publishes a rule may drop, hold back
// until the next publish (reordering the two), or send twice.
type lossyBroker struct {
	*realtime.MemoryBroker
	rule func(m realtime.Message) fate

	mu      sync.Mutex // guards held and dropped
	held    *realtime.Message
	dropped []int64
}

// fate is what lossyBroker does with one publish.
type fate int

const (
	deliver fate = iota
	drop
	holdBack
	duplicate
)

// Publish implements realtime.Broker.
func (b *lossyBroker) Publish(m realtime.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := deliver
	if m.Seq > 0 {
		f = b.rule(m)
	}
	switch {
	case f == drop:
		b.dropped = append(b.dropped, m.Seq)
		return
	case f == holdBack && b.held == nil:
		b.held = &m
		return
	}
	b.MemoryBroker.Publish(m)
	if f == duplicate {
		b.MemoryBroker.Publish(m)
	}
	if b.held != nil {
		b.MemoryBroker.Publish(*b.held)
		b.held = nil
	}
}

func (b *lossyBroker) droppedSeqs() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int64(nil), b.dropped...)
}
