// Package testenv holds what the tests of several packages share: how a
// test finds the services and programs it needs, and a publisher that
// discards.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/taskwire/taskwire"
)

// Require is set (TASKWIRE_REQUIRE_SERVICES=1) where every service must be
// there, as in CI: a test that lacks one fails instead of skipping, so a
// missing service can never turn red into green.
const Require = "TASKWIRE_REQUIRE_SERVICES"

// Service returns the URL in the environment variable key (such as
// TASKWIRE_TEST_POSTGRES_URL). Without it the test is skipped, or fails
// when Require is set.
func Service(t testing.TB, key string) string {
	t.Helper()
	u := os.Getenv(key)
	if u == "" {
		missing(t, key+" is not set")
	}
	return u
}

// Program finds a program the test cannot run without, on PATH or at the
// newest match of one of the patterns (pg_ctl lives in a versioned
// directory). Without it the test is skipped, or fails when Require is set.
func Program(t testing.TB, name string, patterns ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, pat := range patterns {
		if m, _ := filepath.Glob(pat); len(m) > 0 {
			slices.Sort(m)
			return m[len(m)-1]
		}
	}
	missing(t, name+" is not installed")
	return ""
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(Require) == "1" {
		t.Fatalf("%s but %s=1", why, Require)
	}
	t.Skipf("%s: skipping", why)
}

// Discard is a taskwire.Publisher that drops everything, for tests of a
// store or a service that run no hub.
type Discard struct{}

var _ taskwire.Publisher = Discard{}

// Publish implements taskwire.Publisher.
func (Discard) Publish(taskwire.Event) {}

// PublishNotification implements taskwire.Publisher.
func (Discard) PublishNotification(taskwire.Notification) {}

// PublishTokenRevoked implements taskwire.Publisher.
func (Discard) PublishTokenRevoked(int64) {}
