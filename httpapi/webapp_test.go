package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/taskwire/taskwire/httpapi"
)

// TestBrowserHome: a browser asking for / is sent to the web app; API
// clients keep the seed's JSON welcome.
func TestBrowserHome(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, accept string
		app          bool
	}{
		{"Chromium", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", true},
		{"Firefox", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"XHTMLOnly", "application/xhtml+xml", true},
		{"NoAccept", "", false},
		{"Curl", "*/*", false},
		{"JSON", "application/json", false},
		{"JSONOverHTML", "text/html;q=0.5, application/json", false},
		{"HTMLRefused", "text/html;q=0, */*", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.accept != "" {
				headers = []string{"Accept", tc.accept}
			}
			r := e.do("GET", "/", "", nil, headers...)
			if tc.app {
				if r.Status != http.StatusFound || r.Header.Get("Location") != "/app/" {
					t.Fatalf("%d, Location %q; want 302 to /app/", r.Status, r.Header.Get("Location"))
				}
				return
			}
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"message"`) {
				t.Fatalf("%d %s; want the JSON welcome", r.Status, r.Body)
			}
		})
	}
}

// TestWebAppLinks: the app is served at /app/, and the links emails carry
// open it at the task.
func TestWebAppLinks(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path, location string
		status         int
	}{
		{"/app", "/app/", http.StatusMovedPermanently},
		{"/projects/3/tasks/14", "/app/projects/3/tasks/14", http.StatusFound},
		{"/projects/x/tasks/14", "", http.StatusNotFound},
		{"/projects/3/tasks/-1", "", http.StatusNotFound},
	} {
		r := e.do("GET", tc.path, "", nil)
		if r.Status != tc.status || r.Header.Get("Location") != tc.location {
			t.Errorf("GET %s: %d, Location %q; want %d, %q", tc.path, r.Status, r.Header.Get("Location"), tc.status, tc.location)
		}
	}
	for _, path := range []string{"/app/", "/app/projects/1"} {
		r := e.do("GET", path, "", nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "text/html") || r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d %s, CSP %q; want the app's page", path, r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Security-Policy"))
		}
	}
}

// TestRedocOffline: /redoc loads ReDoc from the binary by default.
func TestRedocOffline(t *testing.T) {
	e := newEnv(t)
	page := e.do("GET", "/redoc", "", nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `src="`+httpapi.DefaultRedocScriptURL+`"`) {
		t.Fatalf("/redoc: %d, does not load %s", page.Status, httpapi.DefaultRedocScriptURL)
	}
	r := e.do("GET", httpapi.DefaultRedocScriptURL, "", nil)
	if r.Status != http.StatusOK || len(r.Body) < 100_000 || !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET %s: %d, %d bytes, %s; want ReDoc's bundle", httpapi.DefaultRedocScriptURL, r.Status, len(r.Body), r.Header.Get("Content-Type"))
	}
}
