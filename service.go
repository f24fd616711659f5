package taskwire

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Service holds Taskwire's use-cases: validation, permissions and event
// emission live here once, whatever the storage or transport.
type Service struct {
	store  Store
	pub    Publisher
	hasher PasswordHasher
	opts   Options

	dummyOnce sync.Once
	dummy     string // see dummyHash

	taskProjectsMu sync.Mutex
	taskProjects   map[int64]int64 // task id → project id; see projectOfTask

	uses *tokenUses // API token uses waiting for RecordTokenUses

	// hooksDue wakes DispatchWebhooks when a unit of work that noted an
	// event for webhooks has committed.
	hooksDue chan struct{}
}

// Options tune a Service. The zero value of a field picks its default.
type Options struct {
	// RetentionCount is how many events per project the log keeps readable
	// (default 10000).
	RetentionCount int64
	// RetentionAge is how long events stay readable (default 720h).
	RetentionAge time.Duration
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// ReminderLead is how long before a task is due its assignee is
	// reminded (0: DefaultReminderLead; negative: when it is due).
	ReminderLead time.Duration
	// InvitationTTL is how long an invitation can be accepted (0:
	// DefaultInvitationTTL).
	InvitationTTL time.Duration
	// WebhookURLs refuses webhook URLs that must not be posted to (private
	// addresses); nil checks only their form.
	WebhookURLs URLChecker
}

// NewService returns a Service over the given store, publisher and
// hasher. Email jobs go through the store's units of work.
func NewService(store Store, pub Publisher, hasher PasswordHasher, opts Options) *Service {
	if opts.RetentionCount <= 0 {
		opts.RetentionCount = 10000
	}
	if opts.RetentionAge <= 0 {
		opts.RetentionAge = 720 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReminderLead == 0 {
		opts.ReminderLead = DefaultReminderLead
	} else if opts.ReminderLead < 0 {
		opts.ReminderLead = 0 // asked for explicitly: remind when due
	}
	if opts.InvitationTTL <= 0 {
		opts.InvitationTTL = DefaultInvitationTTL
	}
	return &Service{store: store, pub: pub, hasher: hasher, opts: opts, uses: newTokenUses(), hooksDue: make(chan struct{}, 1)}
}

// now is the current time at the precision the store keeps (microseconds),
// so a value reads back as it was returned.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// emit appends an event to the log in tx and publishes it after commit.
func (s *Service) emit(ctx context.Context, tx Tx, projectID, actorID int64, typ EventType, data any) (Event, error) {
	e, err := newEvent(projectID, actorID, typ, data)
	if err != nil {
		return Event{}, err
	}
	e.TS = s.now()
	e, err = tx.AppendEvent(ctx, e)
	if err != nil {
		return Event{}, err
	}
	if err := s.enqueueWebhooks(ctx, tx, e); err != nil {
		return Event{}, err
	}
	tx.AfterCommit(func() { s.pub.Publish(e) })
	return e, nil
}

// CheckMember returns the project if actor belongs to it, for callers that
// only need the permission (a socket joining a room). Returns NotFound;
// Forbidden.
func (s *Service) CheckMember(ctx context.Context, actor User, projectID int64) (Project, error) {
	return member(ctx, s.store, projectID, actor.ID)
}

// viewProject runs fn on one snapshot of the database with the project,
// which actor must belong to: what fn reads reflects exactly the events up
// to the project's LastSeq. Returns NotFound; Forbidden.
func (s *Service) viewProject(ctx context.Context, actor User, projectID int64, fn func(r Reader, p Project) error) error {
	return s.store.View(ctx, func(r Reader) error {
		p, err := member(ctx, r, projectID, actor.ID)
		if err != nil {
			return err
		}
		return fn(r, p)
	})
}

// member loads a project and checks that userID belongs to it.
// Returns NotFound if the project does not exist; Forbidden if the user is
// not a member.
func member(ctx context.Context, r Reader, projectID, userID int64) (Project, error) {
	p, ok, err := r.ProjectMembership(ctx, projectID, userID)
	if err != nil {
		return Project{}, err
	}
	if !ok {
		return Project{}, Errorf(Forbidden, MsgNotMember)
	}
	return p, nil
}

// IsMember reports whether the user belongs to the project now, for the
// realtime layer: a socket replaying an old member_removed of a user who
// has since been added back keeps its access.
func (s *Service) IsMember(ctx context.Context, projectID, userID int64) (bool, error) {
	return s.store.IsMember(ctx, projectID, userID)
}

// update runs fn in a unit of work, again if it asks to (errRetry).
func (s *Service) update(ctx context.Context, fn func(tx Tx) error) error {
	for range 3 {
		if err := s.store.Update(ctx, fn); !errors.Is(err, errRetry) {
			return err
		}
	}
	return Errorf(Conflict, "Concurrent requests with the same Idempotency-Key; retry")
}

// updateProject runs fn as a unit of work keyed by the project it changes
// (see WithWriteKey).
func (s *Service) updateProject(ctx context.Context, projectID int64, fn func(tx Tx) error) error {
	return s.update(WithWriteKey(ctx, projectID), fn)
}

// updateTask runs fn as a unit of work keyed by the task's project.
func (s *Service) updateTask(ctx context.Context, taskID int64, fn func(tx Tx) error) error {
	return s.updateProject(ctx, s.projectOfTask(ctx, taskID), fn)
}

// maxTaskProjects bounds the task → project cache (about 40 bytes each).
const maxTaskProjects = 1 << 17

// projectOfTask returns the project of a task, for keying a unit of work
// before it reads the task; 0 if unknown (the unit then reports it). A
// task never moves, so the answer is cached; a full cache starts over.
func (s *Service) projectOfTask(ctx context.Context, taskID int64) int64 {
	s.taskProjectsMu.Lock()
	p, ok := s.taskProjects[taskID]
	s.taskProjectsMu.Unlock()
	if ok {
		return p
	}
	t, err := s.store.Task(ctx, taskID)
	if err != nil {
		return 0
	}
	s.rememberTask(t)
	return t.ProjectID
}

func (s *Service) rememberTask(t Task) {
	s.taskProjectsMu.Lock()
	defer s.taskProjectsMu.Unlock()
	if s.taskProjects == nil || len(s.taskProjects) >= maxTaskProjects {
		s.taskProjects = make(map[int64]int64)
	}
	s.taskProjects[t.ID] = t.ProjectID
}
