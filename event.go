package taskwire

import (
	"encoding/json"
	"strconv"
	"time"
)

// EventType names what happened. The first three are the seed's events.
type EventType string

// Event types written to the log and pushed to project rooms.
const (
	EventTaskCreated    EventType = "task_created"
	EventStatusChanged  EventType = "status_changed"
	EventTaskUpdated    EventType = "task_updated"
	EventTaskDeleted    EventType = "task_deleted"
	EventMemberAdded    EventType = "member_added"
	EventMemberRemoved  EventType = "member_removed"
	EventProjectUpdated EventType = "project_updated"
	EventProjectDeleted EventType = "project_deleted"
	EventCommentAdded   EventType = "comment_added"
	EventCommentUpdated EventType = "comment_updated"
	EventCommentDeleted EventType = "comment_deleted"
)

// EventTypes lists every type the log can hold, for documentation checks.
var EventTypes = []EventType{
	EventTaskCreated, EventStatusChanged, EventTaskUpdated, EventTaskDeleted,
	EventMemberAdded, EventMemberRemoved, EventProjectUpdated, EventProjectDeleted,
	EventCommentAdded, EventCommentUpdated, EventCommentDeleted,
}

// SeedEventTypes are the seed service's event types: the only ones a
// socket speaking the seed's protocol (protocol 1) is sent.
var SeedEventTypes = []EventType{EventTaskCreated, EventStatusChanged, EventTaskUpdated}

// Event is one entry of a project's durable log. Seq is per project: the
// first event is 1 and each later one is exactly one more.
type Event struct {
	Seq       int64           `json:"seq"`
	ProjectID int64           `json:"project_id"`
	Type      EventType       `json:"event"`
	Data      json.RawMessage `json:"data"`
	TS        time.Time       `json:"ts"`
	ActorID   int64           `json:"actor_id"`
}

// AppendJSON appends the event's wire form to b:
//
//	{"event":"task_created","data":{...},"seq":1,"project_id":1,"ts":"...","actor_id":1}
//
// It writes the fields in the seed's order (event, data) followed by the log
// fields, and copies Data verbatim: Data is produced by json.Marshal.
func (e Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"event":`...)
	b = appendJSONString(b, string(e.Type))
	b = append(b, `,"data":`...)
	if len(e.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, e.Data...)
	}
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"project_id":`...)
	b = strconv.AppendInt(b, e.ProjectID, 10)
	b = append(b, `,"ts":"`...)
	b = e.TS.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","actor_id":`...)
	b = strconv.AppendInt(b, e.ActorID, 10)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Event types are plain ASCII
// words, which take the fast path; anything else is quoted by encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// Event payloads other than a whole task.
type (
	taskDeletedData struct {
		ID        int64 `json:"id"`
		ProjectID int64 `json:"project_id"`
	}
	memberAddedData struct {
		ProjectID int64   `json:"project_id"`
		UserID    int64   `json:"user_id"`
		User      UserRef `json:"user"`
	}
	memberRemovedData struct {
		ProjectID int64 `json:"project_id"`
		UserID    int64 `json:"user_id"`
	}
	projectDeletedData struct {
		ID int64 `json:"id"`
	}
	commentDeletedData struct {
		ID        int64 `json:"id"`
		TaskID    int64 `json:"task_id"`
		ProjectID int64 `json:"project_id"`
	}
)

// newEvent builds an unsequenced event; the store assigns Seq and TS.
func newEvent(projectID, actorID int64, typ EventType, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, err
	}
	return Event{ProjectID: projectID, ActorID: actorID, Type: typ, Data: raw}, nil
}
