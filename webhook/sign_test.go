package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// TestSignMatchesTheSpec checks Sign against the example of the Standard
// Webhooks specification (and its reference libraries' tests).
func TestSignMatchesTheSpec(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Errorf("Sign = %q, %v; want %q", got, err, want)
	}
	two, err := Signatures([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_AAAA"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil || len(two) <= len(got) || two[:len(got)+1] != got+" " {
		t.Errorf("Signatures = %q, %v", two, err)
	}
	for _, bad := range []string{"whsec_", "whsec_!!!", ""} {
		if _, err := Sign(bad, "id", 1, nil); err == nil {
			t.Errorf("Sign with secret %q: no error", bad)
		}
	}
}

func TestBody(t *testing.T) {
	e := taskwire.Event{Seq: 3, ProjectID: 7, Type: taskwire.EventCommentAdded, Data: json.RawMessage(`{"id":1,"body":"<&>"}`),
		TS: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", 3600)), ActorID: 9}
	got := string(Body(e.Type, e.TS, e.AppendJSON(nil)))
	want := `{"type":"comment_added","timestamp":"2026-01-02T02:04:05.000006Z","data":` + string(e.AppendJSON(nil)) + `}`
	if got != want || !json.Valid([]byte(got)) {
		t.Errorf("Body = %s\nwant   %s", got, want)
	}
	if id := MessageID(7, 3, 12); id != "msg_7_3_12" {
		t.Errorf("MessageID = %q", id)
	}
}

func TestRetryDelayGrows(t *testing.T) {
	o := Options{RetryBase: 5 * time.Second}
	o.defaults()
	var prev time.Duration
	for attempt := 1; attempt <= 12; attempt++ {
		d := o.retryDelay(attempt)
		if d < prev || d > maxRetryDelay {
			t.Errorf("attempt %d: delay %v after %v", attempt, d, prev)
		}
		prev = d
	}
	if o.retryDelay(1) != 5*time.Second || o.retryDelay(2) != 10*time.Second || o.retryDelay(12) != maxRetryDelay {
		t.Errorf("delays %v %v %v", o.retryDelay(1), o.retryDelay(2), o.retryDelay(12))
	}
}
