package httpapi

import (
	"net/http"
	"strconv"
	"strings"
)

// webAppRoutes serves the web app (Config.App) at /app/ and sends a
// browser there: GET / for a browser, and the links in emails
// (BASE_URL/projects/{id}/tasks/{id}), which open the app at that task.
func (s *Server) webAppRoutes() {
	if s.cfg.App == nil {
		return
	}
	s.mux.Handle("GET /app/", s.cfg.App)
	s.mux.HandleFunc("GET /app", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/app/", http.StatusMovedPermanently)
	})
	s.mux.HandleFunc("GET /projects/{project_id}/tasks/{task_id}", func(w http.ResponseWriter, r *http.Request) {
		pid, err1 := strconv.ParseInt(r.PathValue("project_id"), 10, 64)
		tid, err2 := strconv.ParseInt(r.PathValue("task_id"), 10, 64)
		if err1 != nil || err2 != nil || pid <= 0 || tid <= 0 {
			writeError(w, detail(http.StatusNotFound, "Not Found"))
			return
		}
		http.Redirect(w, r, "/app/projects/"+strconv.FormatInt(pid, 10)+"/tasks/"+strconv.FormatInt(tid, 10), http.StatusFound)
	})
}

// browserHome sends a browser asking for / to the web app; API clients
// keep the seed's JSON welcome.
func (s *Server) browserHome(next http.Handler) http.Handler {
	if s.cfg.App == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && prefersHTML(r.Header.Get("Accept")) {
			http.Redirect(w, r, "/app/", http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// prefersHTML reports whether an Accept header names text/html and ranks
// it at least as high as application/json: what browsers send for a page.
// A client that sends */* (curl, requests) or asks for JSON gets JSON.
func prefersHTML(accept string) bool {
	html, json := -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		params := strings.Split(part, ";")
		typ := strings.ToLower(strings.TrimSpace(params[0]))
		q := 1.0
		for _, p := range params[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch typ {
		case "text/html", "application/xhtml+xml":
			html = max(html, q)
		case "application/json":
			json = max(json, q)
		}
	}
	return html > 0 && html >= json
}
