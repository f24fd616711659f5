package realtime_test

import (
	"os"
	"slices"
	"testing"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
	"go.yaml.in/yaml/v3"
)

// TestAsyncAPIDocumentsEveryMessage fails when the code can send a message
// type that asyncapi.yaml does not describe.
func TestAsyncAPIDocumentsEveryMessage(t *testing.T) {
	raw, err := os.ReadFile("../asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AsyncAPI string `yaml:"asyncapi"`
		Channels map[string]struct {
			Messages map[string]any `yaml:"messages"`
		} `yaml:"channels"`
		Components struct {
			Messages map[string]struct {
				Protocols []int `yaml:"x-protocols"`
			} `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AsyncAPI != "3.0.0" {
		t.Fatalf("asyncapi version %q, want 3.0.0", doc.AsyncAPI)
	}
	var types []string
	for _, e := range taskwire.EventTypes {
		types = append(types, string(e))
	}
	types = append(types, realtime.EphemeralTypes...)
	room := doc.Channels["projectRoom"].Messages
	for _, typ := range types {
		if _, ok := doc.Components.Messages[typ]; !ok {
			t.Errorf("components.messages lacks %q", typ)
		}
		if _, ok := room[typ]; !ok {
			t.Errorf("channels.projectRoom.messages lacks %q", typ)
		}
	}
	for _, typ := range []string{"notification", realtime.TypeCaughtUp, realtime.TypeHeartbeat} {
		if _, ok := doc.Channels["userNotifications"].Messages[typ]; !ok {
			t.Errorf("channels.userNotifications.messages lacks %s", typ)
		}
	}
	types = append(types, "notification")
	for name, m := range doc.Components.Messages {
		if !slices.Contains(types, name) {
			t.Errorf("asyncapi.yaml documents %q, which the code never sends", name)
		}
		// Protocol 1 is the seed's: its three event types and nothing else.
		want := []int{2}
		if slices.Contains(taskwire.SeedEventTypes, taskwire.EventType(name)) {
			want = []int{1, 2}
		}
		if !slices.Equal(m.Protocols, want) {
			t.Errorf("asyncapi.yaml says %q is sent on protocols %v; the code sends it on %v", name, m.Protocols, want)
		}
	}
}
