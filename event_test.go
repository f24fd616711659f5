package taskwire_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// checkAppendJSON checks that e.AppendJSON writes valid JSON holding the
// same value as json.Marshal of the equivalent map, appended after prefix.
func checkAppendJSON(t *testing.T, e taskwire.Event) {
	t.Helper()
	prefix := []byte("prefix")
	out := e.AppendJSON(bytes.Clone(prefix))
	if !bytes.HasPrefix(out, prefix) {
		t.Fatalf("AppendJSON overwrote the buffer: %q", out)
	}
	got := out[len(prefix):]
	if !json.Valid(got) {
		t.Fatalf("AppendJSON(type %+q) wrote invalid JSON: %s", e.Type, got)
	}
	data := json.RawMessage("null")
	if len(e.Data) > 0 {
		data = e.Data
	}
	want, err := json.Marshal(map[string]any{
		"event":      string(e.Type),
		"data":       data,
		"seq":        e.Seq,
		"project_id": e.ProjectID,
		"ts":         e.TS.UTC(),
		"actor_id":   e.ActorID,
	})
	if err != nil {
		t.Fatalf("json.Marshal of the equivalent map: %v", err)
	}
	if g, w := decode(t, got), decode(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("AppendJSON wrote\n\t%s\nwant the same value as\n\t%s", got, want)
	}
	// The seed's field order: event and data first.
	if !bytes.HasPrefix(got, []byte(`{"event":`)) {
		t.Errorf("AppendJSON wrote %s, want it to start with the event field", got)
	}
	// MarshalJSON is the same encoding, so json.Marshal(e) agrees.
	viaMarshal, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("json.Marshal(event): %v", err)
	}
	if !reflect.DeepEqual(decode(t, viaMarshal), decode(t, want)) {
		t.Fatalf("json.Marshal(event) = %s, want the same value as %s", viaMarshal, want)
	}
}

// decode parses JSON keeping numbers exact.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestEventAppendJSON(t *testing.T) {
	ts := time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.FixedZone("CET", 3600))
	event := func(typ taskwire.EventType, data string) taskwire.Event {
		return taskwire.Event{Seq: 42, ProjectID: 7, Type: typ, Data: json.RawMessage(data), TS: ts, ActorID: 3}
	}
	tests := []struct {
		name  string
		event taskwire.Event
	}{
		{"TaskCreated", event(taskwire.EventTaskCreated, `{"id":1,"title":"Write tests","description":null,"status":"todo"}`)},
		{"NilData", event(taskwire.EventTaskDeleted, "")},
		{"NullData", event(taskwire.EventTaskDeleted, "null")},
		{"ArrayData", event(taskwire.EventTaskUpdated, `[1,"two",{"three":3.5},true,null]`)},
		{"ScalarData", event(taskwire.EventTaskUpdated, `"just a string"`)},
		{"DataWithSpaces", event(taskwire.EventTaskUpdated, " {\n  \"a\" : [ 1 , 2 ]\n} ")},
		{"DataEscapes", event(taskwire.EventTaskUpdated, `{"s":"quote \" backslash \\ <script>&amp; \u2028 \ud83d\ude00 é"}`)},
		{"BigNumbers", event(taskwire.EventTaskUpdated, `{"n":12345678901234567890123,"f":1e400}`)},
		{"ZeroEvent", taskwire.Event{}},
		{"ExtremeInts", taskwire.Event{Seq: math.MaxInt64, ProjectID: math.MinInt64, ActorID: -1, Type: taskwire.EventMemberAdded, Data: json.RawMessage(`{}`), TS: ts}},
		{"UTCTime", taskwire.Event{Seq: 1, Type: taskwire.EventProjectDeleted, Data: json.RawMessage(`{"id":1}`), TS: ts.UTC()}},
		{"WholeSecond", taskwire.Event{Seq: 1, Type: taskwire.EventProjectDeleted, Data: json.RawMessage(`{"id":1}`), TS: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"Nanoseconds", taskwire.Event{Seq: 1, Type: taskwire.EventProjectDeleted, Data: json.RawMessage(`{"id":1}`), TS: ts.Add(123)}},
		{"TypeWithQuoteAndBackslash", event(`a "quoted" \type\`, `{}`)},
		{"TypeWithHTML", event("<b>&</b>", `{}`)},
		{"TypeUnicode", event("créé ✓ 😀", `{}`)},
		{"TypeLineSeparator", event("a\u2028b", `{}`)},
		{"TypeNewlineAndTab", event("a\nb\tc", `{}`)},
		// Go string escapes that JSON does not have: \x.., \a, \v, \U........
		{"TypeNUL", event("a\x00b", `{}`)},
		{"TypeBell", event("a\ab", `{}`)},
		{"TypeDEL", event("a\x7fb", `{}`)},
		{"TypeInvalidUTF8", event("a\xffb", `{}`)},
		{"TypeUnprintableAstral", event("a\U000E0001b", `{}`)},
	}
	for _, e := range taskwire.EventTypes {
		tests = append(tests, struct {
			name  string
			event taskwire.Event
		}{"Type/" + string(e), event(e, `{"id":1}`)})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkAppendJSON(t, tc.event) })
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add(string(taskwire.EventTaskCreated), []byte(`{"id":1,"title":"x"}`), int64(1), int64(2), int64(3), int64(1741961366535897000))
	f.Add("status_changed", []byte(`null`), int64(0), int64(0), int64(0), int64(0))
	f.Add(`we"ird\`, []byte(` [1, "two", {"3": 4.5e6}] `), int64(-1), int64(math.MaxInt64), int64(math.MinInt64), int64(-1))
	f.Add("ünïcødé ✓", []byte(`"\u2028<&>"`), int64(7), int64(8), int64(9), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, typ string, data []byte, seq, projectID, actorID, tsNanos int64) {
		if !json.Valid(data) {
			t.Skip("Data is produced by json.Marshal, so it is always valid JSON")
		}
		e := taskwire.Event{
			Seq: seq, ProjectID: projectID, ActorID: actorID,
			Type: taskwire.EventType(typ), Data: json.RawMessage(data),
			TS: time.Unix(0, tsNanos).In(time.FixedZone("X", int(tsNanos%86400))),
		}
		checkAppendJSON(t, e)
		if out := string(e.AppendJSON(nil)); strings.Count(out, "\n") != strings.Count(string(data), "\n") {
			t.Fatalf("AppendJSON added line breaks: %q", out)
		}
	})
}
