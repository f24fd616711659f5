package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/taskwire/taskwire"
)

// TestFromDomainLogsOnlyServerErrors: the one place that maps domain errors
// logs an internal error once, and a request its client abandoned not as
// one.
func TestFromDomainLogsOnlyServerErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		logged bool // an ERROR line
	}{
		{"Internal", errors.New("boom"), http.StatusInternalServerError, true},
		{"ClientGone", fmt.Errorf("sqlstore: %w", context.Canceled), statusClientClosed, false},
		{"Unavailable", &taskwire.Error{Kind: taskwire.Unavailable, Message: "down", Err: errors.New("dial")}, http.StatusServiceUnavailable, false},
		{"NotFound", taskwire.Errorf(taskwire.NotFound, "Task not found"), http.StatusNotFound, false},
		{"DeadlineIsInternal", context.DeadlineExceeded, http.StatusInternalServerError, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			e := fromDomain(logger, tc.err)
			if e.status != tc.status {
				t.Errorf("status %d, want %d", e.status, tc.status)
			}
			if got := strings.Contains(buf.String(), "level=ERROR"); got != tc.logged {
				t.Errorf("logged an error: %v, want %v (log: %q)", got, tc.logged, buf.String())
			}
		})
	}
}

// TestLoggedPath: an invitation link's token never reaches the request log.
func TestLoggedPath(t *testing.T) {
	for in, want := range map[string]string{
		"/app/invite/abcDEF_123-x":   "/app/invite/…",
		"/app/invite/":               "/app/invite/",
		"/app/projects/7":            "/app/projects/7",
		"/api/v1/invitations/accept": "/api/v1/invitations/accept",
	} {
		if got := loggedPath(in); got != want {
			t.Errorf("loggedPath(%q) = %q, want %q", in, got, want)
		}
	}
}
