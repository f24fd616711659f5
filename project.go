package taskwire

import (
	"time"
	"unicode/utf8"
)

// Project groups tasks and the people who work on them. LastSeq is the seq
// of the project's newest event (0 before the first one).
type Project struct {
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	ID          int64     `json:"id"`
	OwnerID     int64     `json:"owner_id"`
	LastSeq     int64     `json:"-"`
	CreatedAt   time.Time `json:"-"`
}

// Member is one user's membership of a project.
type Member struct {
	ProjectID int64 `json:"project_id"`
	UserID    int64 `json:"user_id"`
	User      User  `json:"user"`
}

// NewProject is the input of Service.CreateProject.
type NewProject struct {
	Name        string
	Description *string
}

// ProjectPatch lists the changes of a project update; nil fields are left alone.
type ProjectPatch struct {
	Name        *string
	Description Optional[*string]
}

// MaxProjectNameLen bounds a project's name.
const MaxProjectNameLen = 200

func validateProjectName(name string) error {
	if utf8.RuneCountInString(name) > MaxProjectNameLen {
		return InvalidField("name", "Name must be at most 200 characters")
	}
	if !storable(name) {
		return InvalidField("name", "Name must be valid UTF-8 without NUL characters")
	}
	return nil
}

// UserSelector names a user by exactly one of id, username or email.
type UserSelector struct {
	ID       *int64
	Username *string
	Email    *string
}
