package httpapi

import (
	"context"
	"github.com/danielgtaylor/huma/v2"
	"html/template"
	"net/http"
	"time"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"
)

func (s *Server) root(context.Context, *struct{}) (*messageOutput, error) {
	return message("Welcome to Taskwire, a real-time team collaboration API. Docs: /docs"), nil
}

type statusOutput struct {
	Body struct {
		Status string            `json:"status" example:"ok"`
		Checks map[string]string `json:"checks,omitempty"`
	}
}

func (s *Server) healthz(context.Context, *struct{}) (*statusOutput, error) {
	out := &statusOutput{}
	out.Body.Status = "ok"
	return out, nil
}

type readyOutput struct {
	Status int
	Body   struct {
		Status string            `json:"status" example:"ok"`
		Checks map[string]string `json:"checks"`
	}
}

func (s *Server) readyz(ctx context.Context, _ *struct{}) (*readyOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out := &readyOutput{Status: http.StatusOK}
	out.Body.Status, out.Body.Checks = "ok", map[string]string{}
	for name, check := range s.ready {
		if err := check(ctx); err != nil {
			out.Status, out.Body.Status = http.StatusServiceUnavailable, "unavailable"
			out.Body.Checks[name] = err.Error()
			continue
		}
		out.Body.Checks[name] = "ok"
	}
	return out, nil
}

// DefaultRedocScriptURL is ReDoc's standalone bundle as the web app's build
// embeds it (package web), so /redoc works offline; REDOC_SCRIPT_URL may
// point elsewhere, such as ReDoc's CDN as the seed's /redoc used.
const DefaultRedocScriptURL = "/app/vendor/redoc.standalone.js"

var redocPage = template.Must(template.New("redoc").Parse(`<!DOCTYPE html>
<html>
<head>
<title>Taskwire API - ReDoc</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<noscript>ReDoc requires JavaScript to render the API documentation.</noscript>
<redoc spec-url="/openapi.json"></redoc>
<script src="{{.}}"></script>
</body>
</html>
`))

func (s *Server) redoc(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = redocPage.Execute(w, s.cfg.RedocScriptURL)
}

// swaggerUI returns Swagger UI with its assets embedded in the binary, so
// /docs works without internet access.
func swaggerUI() http.Handler {
	return v5emb.NewWithConfig(swgui.Config{
		Title:       "Taskwire API",
		SwaggerJSON: "/openapi.json",
		BasePath:    "/docs/",
		ShowTopBar:  false,
	})("Taskwire API", "/openapi.json", "/docs/")
}

// asyncAPI serves the WebSocket protocol document given in Config.
func (s *Server) asyncAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(s.cfg.AsyncAPI)
}

// opsRoutes registers the root greeting and the health checks.
func (s *Server) opsRoutes(api huma.API) {
	register(api, huma.Operation{
		OperationID: "root__get", Method: http.MethodGet, Path: "/",
		Summary: "Root", Tags: []string{"meta"},
		Description: "A greeting, as the seed service answered.",
	}, s.root)

	register(api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz",
		Summary: "Liveness", Tags: []string{"operations"},
		Description: "200 while the process is up.",
	}, s.healthz)
	register(api, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz",
		Summary: "Readiness", Tags: []string{"operations"},
		Description: "200 when the database and the broker answer, 503 otherwise.",
		Errors:      []int{http.StatusServiceUnavailable},
	}, s.readyz)
}
