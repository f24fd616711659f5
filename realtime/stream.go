package realtime

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/taskwire/taskwire"
)

// Source reads the durable streams: project event logs and user
// notification inboxes.
type Source interface {
	// LastSeq returns the project's newest seq. Returns NotFound.
	LastSeq(ctx context.Context, projectID int64) (int64, error)
	// LastSeqs returns the newest seq of each existing project among ids.
	LastSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	// Replay returns up to limit events after since, oldest first; a
	// *taskwire.GoneError when since is older than the retained log.
	Replay(ctx context.Context, projectID, since int64, limit int) ([]taskwire.Event, error)
	// IsMember reports whether the user belongs to the project now.
	IsMember(ctx context.Context, projectID, userID int64) (bool, error)

	// NotificationSeq returns the user's newest notification seq.
	NotificationSeq(ctx context.Context, userID int64) (int64, error)
	// NotificationSeqs returns the newest notification seq of each existing
	// user among ids.
	NotificationSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	// ReplayNotifications returns up to limit notifications after since.
	ReplayNotifications(ctx context.Context, userID, since int64, limit int) ([]taskwire.Notification, error)

	// LiveAPITokens reports which of the API tokens ids still exist (not
	// revoked, their user not deleted).
	LiveAPITokens(ctx context.Context, ids []int64) (map[int64]bool, error)
}

// topic names one stream.
type topic struct {
	kind Kind
	id   int64
}

// lastSeq reads the stream's newest seq.
func (h *Hub) lastSeq(ctx context.Context, t topic) (int64, error) {
	if t.kind == UserStream {
		return h.source.NotificationSeq(ctx, t.id)
	}
	return h.source.LastSeq(ctx, t.id)
}

// lastSeqs reads the newest seq of many streams of one kind.
func (h *Hub) lastSeqs(ctx context.Context, kind Kind, ids []int64) (map[int64]int64, error) {
	if kind == UserStream {
		return h.source.NotificationSeqs(ctx, ids)
	}
	return h.source.LastSeqs(ctx, ids)
}

// replay reads up to limit messages of a stream after since.
func (h *Hub) replay(ctx context.Context, t topic, since int64, limit int) ([]Message, error) {
	if t.kind == UserStream {
		ns, err := h.source.ReplayNotifications(ctx, t.id, since, limit)
		out := make([]Message, len(ns))
		for i, n := range ns {
			out[i] = NotificationMessage(n)
		}
		return out, err
	}
	es, err := h.source.Replay(ctx, t.id, since, limit)
	out := make([]Message, len(es))
	for i, e := range es {
		out[i] = EventMessage(e)
	}
	return out, err
}

// notificationJSON renders the message a user socket receives.
func notificationJSON(n taskwire.Notification) []byte {
	data, _ := json.Marshal(n)
	b := make([]byte, 0, 64+len(data))
	b = append(b, `{"event":"notification","data":`...)
	b = append(b, data...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, n.Seq, 10)
	return append(b, '}')
}
