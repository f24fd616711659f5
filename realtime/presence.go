package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// maxEphemeral bounds the presence messages waiting for one connection.
const maxEphemeral = 256

// Event types that are pushed to rooms but not written to the log.
const (
	TypePresenceJoined = "presence_joined"
	TypePresenceLeft   = "presence_left"
	TypeResyncRequired = "resync_required"
)

// EphemeralTypes lists the message types the hub sends to project rooms
// besides the log's events, for documentation checks.
var EphemeralTypes = []string{TypePresenceJoined, TypePresenceLeft, TypeResyncRequired, TypeCaughtUp, TypeHeartbeat}

// presence counts one user's open sockets in a room.
type presence struct {
	username string
	conns    int
}

// PresenceEntry is a member with open sockets in a project room.
type PresenceEntry struct {
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	Connections int    `json:"connections"`
}

// PresenceStore shares presence between instances.
type PresenceStore interface {
	// Put records this instance's entries for a project (none: forget it).
	Put(ctx context.Context, projectID int64, entries []PresenceEntry) error
	// Get sums the entries of every live instance for a project.
	Get(ctx context.Context, projectID int64) ([]PresenceEntry, error)
	// Alive tells the store this instance is still up.
	Alive(ctx context.Context) error
	// Mark records how many sockets this instance has for a user in a
	// project (0: none) and reports whether the user thereby came online on
	// the first live instance (joined) or went offline on the last (left).
	Mark(ctx context.Context, projectID, userID int64, conns int) (joined, left bool, err error)
}

// presenceMark is a user's first or last socket of a room on this
// instance, on its way to the shared presence store.
type presenceMark struct {
	projectID, userID int64
	username          string
	conns             int   // 1: first socket; 0: last one gone
	except            *conn // the socket that joined: it is not told of itself
	// refresh records the user's current count again, announcing nothing.
	refresh bool
}

// markPresence announces a user's first (conns 1) or last (conns 0) socket
// in r. Alone, the instance announces it at once; with a shared store the
// mark is queued for markLoop, which announces only the user's first or
// last socket across instances. r.mu must be held.
func (h *Hub) markPresence(r *room, c *conn, conns int, except *conn) {
	if h.opts.Presence == nil {
		typ := TypePresenceJoined
		if conns == 0 {
			typ = TypePresenceLeft
		}
		r.announce(presenceJSON(typ, r.topic.id, c.userID, c.username), except)
		return
	}
	h.presenceChanged(r)
	h.queueMarks(presenceMark{projectID: r.topic.id, userID: c.userID, username: c.username, conns: conns, except: except})
}

// queueMarks hands marks to markLoop.
func (h *Hub) queueMarks(ms ...presenceMark) {
	h.marksMu.Lock()
	h.marks = append(h.marks, ms...)
	h.marksMu.Unlock()
	select {
	case h.marksReady <- struct{}{}:
	default:
	}
}

// markLoop sends queued presence marks to the shared store, in order, and
// announces the transitions it reports. If the store fails, this
// instance's own view decides, as it would alone.
func (h *Hub) markLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.marksReady:
		}
		h.marksMu.Lock()
		marks := h.marks
		h.marks = nil
		h.marksMu.Unlock()
		var failed error // after one failure the rest of the batch skips the store
		for _, m := range marks {
			if m.refresh {
				if failed == nil {
					failed = h.refreshMark(ctx, m)
				}
				continue
			}
			joined, left := m.conns > 0, m.conns == 0 // this instance's view
			if failed == nil {
				var j, l bool
				if j, l, failed = h.mark(ctx, m.projectID, m.userID, m.conns); failed == nil {
					joined, left = j, l
				}
			}
			switch {
			case joined:
				h.announce(m.projectID, presenceJSON(TypePresenceJoined, m.projectID, m.userID, m.username), m.except)
			case left:
				h.announce(m.projectID, presenceJSON(TypePresenceLeft, m.projectID, m.userID, m.username), nil)
			}
		}
	}
}

// refreshMark records a user's current socket count in a room again,
// ignoring the transition the store reports: it was announced when it
// happened. Run by markLoop, in order with the other marks.
func (h *Hub) refreshMark(ctx context.Context, m presenceMark) error {
	h.mu.Lock()
	r := h.rooms[topic{ProjectStream, m.projectID}]
	h.mu.Unlock()
	conns := 0
	if r != nil {
		r.mu.RLock()
		if p := r.present[m.userID]; p != nil {
			conns = p.conns
		}
		r.mu.RUnlock()
	}
	_, _, err := h.mark(ctx, m.projectID, m.userID, conns)
	return err
}

// mark records a count in the shared store. After a failure the store may
// lack this instance's marks: presenceLoop records them all again.
func (h *Hub) mark(ctx context.Context, projectID, userID int64, conns int) (joined, left bool, err error) {
	mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	joined, left, err = h.opts.Presence.Mark(mctx, projectID, userID, conns)
	if err != nil {
		h.logger.Warn("realtime: presence not shared", "project_id", projectID, "err", err)
		h.presenceDirty.Store(true)
	}
	return joined, left, err
}

// queueRefresh queues a refresh of every user present in r. r.mu must be
// held.
func (h *Hub) queueRefresh(r *room) {
	ms := make([]presenceMark, 0, len(r.present))
	for id := range r.present {
		ms = append(ms, presenceMark{projectID: r.topic.id, userID: id, refresh: true})
	}
	h.queueMarks(ms...)
}

// announce sends a presence message to the project room's sockets here
// but except, and through the broker to the other instances'.
func (h *Hub) announce(projectID int64, payload []byte, except *conn) {
	h.mu.Lock()
	r := h.rooms[topic{ProjectStream, projectID}]
	h.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		r.ephemeral(textFrame(payload), except)
		r.mu.Unlock()
	}
	h.broker.Publish(Message{Kind: ProjectStream, ID: projectID, Payload: payload, Origin: h.opts.Instance})
}

// Presence lists the users with an open socket in the project's room — on
// every instance with a shared store, on this one otherwise — by user id.
func (h *Hub) Presence(ctx context.Context, projectID int64) ([]PresenceEntry, error) {
	if h.opts.Presence != nil {
		out, err := h.opts.Presence.Get(ctx, projectID)
		if out == nil {
			out = []PresenceEntry{}
		}
		return out, err
	}
	h.mu.Lock()
	r := h.rooms[topic{ProjectStream, projectID}]
	h.mu.Unlock()
	if r == nil {
		return []PresenceEntry{}, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.localPresence(), nil
}

// localPresence lists this instance's sockets by user. r.mu must be held.
func (r *room) localPresence() []PresenceEntry {
	out := []PresenceEntry{}
	for id, p := range r.present {
		out = append(out, PresenceEntry{UserID: id, Username: p.username, Connections: p.conns})
	}
	slices.SortFunc(out, func(a, b PresenceEntry) int { return int(a.UserID - b.UserID) })
	return out
}

// presenceChanged stores the room's local presence in the shared store,
// in the background. r.mu must be held.
func (h *Hub) presenceChanged(r *room) {
	if h.opts.Presence == nil {
		return
	}
	entries, id := r.localPresence(), r.topic.id
	h.spawn(func(life context.Context) {
		ctx, cancel := context.WithTimeout(life, 2*time.Second)
		defer cancel()
		if err := h.opts.Presence.Put(ctx, id, entries); err != nil && life.Err() == nil {
			h.logger.Warn("realtime: presence not shared", "project_id", id, "err", err)
		}
	})
}

// presenceLoop keeps this instance's presence alive in the shared store
// and writes every room's presence again, every few seconds.
func (h *Hub) presenceLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := h.opts.Presence.Alive(ctx); err != nil && ctx.Err() == nil {
			h.logger.Warn("realtime: presence heartbeat failed", "err", err)
		}
		h.mu.Lock()
		var rooms []*room
		for t, r := range h.rooms {
			if t.kind == ProjectStream {
				rooms = append(rooms, r)
			}
		}
		h.mu.Unlock()
		dirty := h.presenceDirty.Swap(false)
		for _, r := range rooms {
			r.mu.RLock()
			h.presenceChanged(r)
			if dirty {
				h.queueRefresh(r)
			}
			r.mu.RUnlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// presenceJSON renders
// {"event":"presence_joined","data":{"user_id":1,"username":"ada"},"project_id":7,"ts":"..."}.
func presenceJSON(typ string, projectID, userID int64, username string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"event":"`...)
	b = append(b, typ...)
	b = append(b, `","data":{"user_id":`...)
	b = strconv.AppendInt(b, userID, 10)
	b = append(b, `,"username":`...)
	name, _ := json.Marshal(username)
	b = append(b, name...)
	b = append(b, `},"project_id":`...)
	b = strconv.AppendInt(b, projectID, 10)
	b = append(b, `,"ts":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}
