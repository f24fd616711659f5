package taskwire

import (
	"errors"
	"fmt"
)

// Kind classifies an error so each layer can react to it without knowing
// where it came from. The HTTP layer maps kinds to status codes in one place.
type Kind uint8

// The closed set of error kinds.
const (
	Internal           Kind = iota // unexpected; logged, shown as "Internal Server Error"
	Invalid                        // the request is malformed or violates a rule (422)
	BadRequest                     // a well-formed request that cannot be honoured (400)
	Unauthenticated                // no or bad credentials (401)
	Forbidden                      // authenticated but not allowed (403)
	NotFound                       // the named thing does not exist (404)
	Conflict                       // the request collides with concurrent work (409)
	Gone                           // the thing existed but is no longer kept (410)
	PreconditionFailed             // If-Match did not match (412)
	RateLimited                    // too many requests (429)
	Unavailable                    // a service it depends on is unreachable (503)
)

// Error is the domain error: a kind, a message safe to show to the caller
// and, for Invalid, the offending field.
type Error struct {
	Kind    Kind
	Message string
	// Field names the request field an Invalid error is about ("title"),
	// or is empty when the error concerns the request as a whole.
	Field string
	// Err is the underlying cause, kept for logs; never shown to callers.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// InvalidField returns an Invalid error about one request field.
func InvalidField(field, message string) *Error {
	return &Error{Kind: Invalid, Field: field, Message: message}
}

// ErrorKind returns the kind of err, or Internal when err carries none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var g *GoneError
	if errors.As(err, &g) {
		return Gone
	}
	return Internal
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Messages shared by several use-cases; they are part of the API contract.
const (
	MsgProjectNotFound      = "Project not found"
	MsgTaskNotFound         = "Task not found"
	MsgUserNotFound         = "User not found"
	MsgNotMember            = "Not a member of this project"
	MsgNotificationNotFound = "Notification not found"
	MsgCommentNotFound      = "Comment not found"
)
