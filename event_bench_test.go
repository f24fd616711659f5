package taskwire_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// BenchmarkEventEncode measures the one encoding each event gets before it
// is shared by every socket of its room.
func BenchmarkEventEncode(b *testing.B) {
	desc := "Ship the realtime hub"
	assignee := int64(7)
	data, _ := json.Marshal(taskwire.Task{
		Title: "Write launch post", Description: &desc, Status: taskwire.StatusInProgress,
		ID: 1234, ProjectID: 56, AssigneeID: &assignee, Version: 3,
		CreatedAt: time.Now(), UpdatedAt: time.Now(),
	})
	e := taskwire.Event{Seq: 99, ProjectID: 56, Type: taskwire.EventStatusChanged, Data: data, TS: time.Now(), ActorID: 7}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}
