package taskwire

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is the state of a task.
type Status string

// The task statuses, as the seed service spelled them.
const (
	StatusTodo       Status = "todo"
	StatusInProgress Status = "in_progress"
	StatusDone       Status = "done"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	return s == StatusTodo || s == StatusInProgress || s == StatusDone
}

// Task is a unit of work in a project. Version starts at 1 and grows by one
// with every change; it is the task's ETag.
type Task struct {
	Title       string    `json:"title"`
	Description *string   `json:"description"`
	Status      Status    `json:"status"`
	ID          int64     `json:"id"`
	ProjectID   int64     `json:"project_id"`
	AssigneeID  *int64    `json:"assignee_id"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// DueAt is when the task is due, if ever (UTC, microseconds).
	DueAt *time.Time `json:"due_at"`
	// Labels are the task's labels as first written, never nil.
	Labels []string `json:"labels" nullable:"false"`
	// AssignedSeq is the seq of the event that last changed the assignee.
	AssignedSeq int64 `json:"-"`
}

// ETag is the strong entity tag of the task's current version.
func (t Task) ETag() string { return `"` + strconv.FormatInt(t.Version, 10) + `"` }

// Limits on task fields.
const (
	MaxTitleLen       = 500
	MaxDescriptionLen = 20000
	MaxLabels         = 20
	MaxLabelLen       = 50
)

// NewTask is the input of Service.CreateTask.
type NewTask struct {
	Title       string
	Description *string
	Status      Status // empty means StatusTodo
	AssigneeID  *int64
	DueAt       *time.Time
	Labels      []string
}

// TaskPatch lists the changes of an update; a nil field is left alone.
// Description and AssigneeID use Optional because null is a meaningful
// value for them (clear the description, unassign).
type TaskPatch struct {
	Title       *string
	Description Optional[*string]
	Status      *Status
	AssigneeID  Optional[*int64]
	DueAt       Optional[*time.Time]
	// Labels, when set, replaces the task's labels (nil clears them).
	Labels Optional[[]string]
	// IfMatch, when set, is the version the caller last saw; the update fails
	// with PreconditionFailed if the task has moved on.
	IfMatch *int64
}

// Optional distinguishes "not sent" from "sent", including sent as null.
type Optional[T any] struct {
	Set   bool
	Value T
}

// Some returns a set Optional.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

func validateTitle(title string) error {
	if utf8.RuneCountInString(title) > MaxTitleLen {
		return InvalidField("title", "Title must be at most 500 characters")
	}
	if !storable(title) {
		return InvalidField("title", "Title must be valid UTF-8 without NUL characters")
	}
	return nil
}

func validateDescription(d *string) error {
	if d == nil {
		return nil
	}
	if utf8.RuneCountInString(*d) > MaxDescriptionLen {
		return InvalidField("description", "Description must be at most 20000 characters")
	}
	if !storable(*d) {
		return InvalidField("description", "Description must be valid UTF-8 without NUL characters")
	}
	return nil
}

func validateStatus(s Status) error {
	if !s.Valid() {
		return InvalidField("status", "Input should be 'todo', 'in_progress' or 'done'")
	}
	return nil
}

// apply returns t with p applied and whether anything changed. It does not
// validate; see TaskPatch.validate.
func (p TaskPatch) apply(t Task) (Task, bool) {
	changed := false
	if p.Title != nil && *p.Title != t.Title {
		t.Title, changed = *p.Title, true
	}
	if p.Description.Set && !equalPtr(p.Description.Value, t.Description) {
		t.Description, changed = p.Description.Value, true
	}
	if p.Status != nil && *p.Status != t.Status {
		t.Status, changed = *p.Status, true
	}
	if p.AssigneeID.Set && !equalPtr(p.AssigneeID.Value, t.AssigneeID) {
		t.AssigneeID, changed = p.AssigneeID.Value, true
	}
	if p.DueAt.Set && !sameTime(p.DueAt.Value, t.DueAt) {
		t.DueAt, changed = p.DueAt.Value, true
	}
	if p.Labels.Set && !slices.Equal(p.Labels.Value, t.Labels) {
		t.Labels, changed = p.Labels.Value, true
	}
	return t, changed
}

// validate checks the patch and normalizes its due date and labels.
func (p *TaskPatch) validate() error {
	if p.DueAt.Set {
		p.DueAt.Value = normalDue(p.DueAt.Value)
	}
	if p.Labels.Set {
		labels, err := NormalizeLabels(p.Labels.Value)
		if err != nil {
			return err
		}
		p.Labels.Value = labels
	}
	if p.Title != nil {
		if err := validateTitle(*p.Title); err != nil {
			return err
		}
	}
	if p.Description.Set {
		if err := validateDescription(p.Description.Value); err != nil {
			return err
		}
	}
	if p.Status != nil {
		if err := validateStatus(*p.Status); err != nil {
			return err
		}
	}
	return nil
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// normalDue is a due date as stored: UTC, to the microsecond.
func normalDue(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// LabelKey is what labels are compared by: two labels with the same key
// are the same label.
func LabelKey(label string) string { return strings.ToLower(label) }

// NormalizeLabels trims each label and drops repeats (compared by
// LabelKey, the first spelling kept). Returns Invalid for an empty or
// too long label, or more than MaxLabels distinct labels. The result is
// never nil.
func NormalizeLabels(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, l := range in {
		l = strings.TrimSpace(l)
		if l == "" || utf8.RuneCountInString(l) > MaxLabelLen {
			return nil, InvalidField("labels", "Each label must be 1 to 50 characters")
		}
		if !storable(l) {
			return nil, InvalidField("labels", "Labels must be valid UTF-8 without NUL characters")
		}
		if k := LabelKey(l); !seen[k] {
			seen[k] = true
			out = append(out, l)
		}
	}
	if len(out) > MaxLabels {
		return nil, InvalidField("labels", "A task has at most 20 labels")
	}
	return out, nil
}

// LabelCount is a label of a project and how many of its tasks carry it.
type LabelCount struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// TaskFilter narrows a task list.
type TaskFilter struct {
	Status     *Status
	AssigneeID *int64
	// Labels are label keys (LabelKey) a task must all carry.
	Labels []string
	// DueBefore keeps tasks due strictly before it.
	DueBefore *time.Time
	// Overdue, when set, keeps the tasks that are (true) or are not (false)
	// due before Now and not done.
	Overdue *bool
	Now     time.Time
	// Query keeps the tasks whose title, description and comments contain
	// every word of it (see ParseSearchQuery); a query without words keeps
	// none. The list stays in id order.
	Query string
}

// storable reports whether every database can keep s as text: valid UTF-8
// with no NUL (PostgreSQL refuses NUL in text).
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
