package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestApp serves every file of the embedded build and a few paths that are
// not files: hashed assets cached for good, everything else revalidated,
// deep links answered with the app's page, a strict policy on all.
func TestApp(t *testing.T) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		t.Fatalf("the build has no index.html: %v", err)
	}
	app := App()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		return rec
	}
	for _, path := range []string{"/app/", "/app/index.html", "/app/projects/1", "/app/projects/1/tasks/2", "/app/login", "/app/nothing/here"} {
		rec := get(path)
		if rec.Code != http.StatusOK || rec.Body.String() != string(index) {
			t.Errorf("GET %s: %d, want the app's index.html", path, rec.Code)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, cc)
		}
	}
	if rec := get("/app/assets/missing-0000.js"); rec.Code != http.StatusNotFound {
		t.Errorf("a missing asset: %d, want 404", rec.Code)
	}
	err = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "index.html" {
			return err
		}
		want, _ := fs.ReadFile(files, name)
		rec := get("/app/" + name)
		if rec.Code != http.StatusOK || rec.Body.Len() != len(want) {
			t.Errorf("GET /app/%s: %d, %d bytes, want 200 and %d bytes", name, rec.Code, rec.Body.Len(), len(want))
		}
		cc := rec.Header().Get("Cache-Control")
		if strings.HasPrefix(name, "assets/") && cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET /app/%s: Cache-Control %q, want a year, immutable", name, cc)
		}
		if !strings.HasPrefix(name, "assets/") && cc != "no-cache" {
			t.Errorf("GET /app/%s: Cache-Control %q, want no-cache", name, cc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
