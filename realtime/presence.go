package realtime

import (
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

// EphemeralTypes lists the message types the hub sends besides the log's
// events, for documentation checks.
var EphemeralTypes = []string{TypePresenceJoined, TypePresenceLeft, TypeResyncRequired}

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

// Presence lists the users with an open socket in the project's room on
// this instance, by user id.
func (h *Hub) Presence(projectID int64) []PresenceEntry {
	h.mu.Lock()
	r := h.rooms[topic{ProjectStream, projectID}]
	h.mu.Unlock()
	out := []PresenceEntry{}
	if r == nil {
		return out
	}
	r.mu.Lock()
	for id, p := range r.present {
		out = append(out, PresenceEntry{UserID: id, Username: p.username, Connections: p.conns})
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b PresenceEntry) int { return int(a.UserID - b.UserID) })
	return out
}

// presenceMessage encodes as a text frame
// {"event":"presence_joined","data":{"user_id":1,"username":"ada"},"project_id":7,"ts":"..."}.
func presenceMessage(typ string, projectID, userID int64, username string) []byte {
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
	return textFrame(append(b, `"}`...))
}
