package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// projectErrors are the statuses of a route about one project.
var projectErrors = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity}

// secured marks an operation as requiring a bearer token.
var secured = []map[string][]string{{"OAuth2PasswordBearer": {}}}

// register is huma.Register with Taskwire's body limit. huma refuses a body
// that reaches MaxBodyBytes, so for a limit of 1 MiB it is set a byte past.
func register[I, O any](api huma.API, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.MaxBodyBytes = maxBodyBytes + 1
	huma.Register(api, op, h)
}

// routes registers every operation, each group by the file of its
// handlers. Seed routes keep the seed's paths, operation ids and summaries.
func (s *Server) routes() {
	api := s.api
	s.opsRoutes(api)
	s.authRoutes(api)
	s.userRoutes(api)
	s.apiTokenRoutes(api)
	s.projectRoutes(api)
	s.taskRoutes(api)
	s.commentRoutes(api)
	s.searchRoutes(api)
	s.eventRoutes(api)
	s.notificationRoutes(api)
	s.invitationRoutes(api)
	s.webhookRoutes(api)
	s.documentRawRoutes()
	s.mux.HandleFunc("GET /ws/projects/{project_id}", s.projectSocket)
	s.mux.HandleFunc("GET /ws/notifications", s.notificationSocket)
	docs := swaggerUI()
	s.mux.Handle("GET /docs", docs)
	s.mux.Handle("GET /docs/", docs)
	s.mux.HandleFunc("GET /redoc", s.redoc)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /asyncapi.yaml", s.asyncAPI)
	s.webAppRoutes()
}

const (
	pagingDoc = "Without `limit` the whole list is returned, as the seed did. With `limit` (1–500) " +
		"one page is returned and, when there is more, a `Link: <...>; rel=\"next\"` header names the next page."
	idempotencyDoc = "With an `Idempotency-Key` header, a retry with the same key and body within 24 h " +
		"returns the first response and creates nothing; the same key with another body is a 422."
	ifMatchDoc = "The response carries the task's `ETag`; send it back in `If-Match` to get 412 instead of overwriting a newer change."
)

// documentRawRoutes lists in the OpenAPI document the routes served
// outside huma, so that every route appears there.
func (s *Server) documentRawRoutes() {
	doc := s.api.OpenAPI()
	text := func(ct, desc string) map[string]*huma.Response {
		return map[string]*huma.Response{"200": {Description: desc, Content: map[string]*huma.MediaType{ct: {Schema: &huma.Schema{Type: "string"}}}}}
	}
	doc.AddOperation(&huma.Operation{
		OperationID: "project_socket", Method: http.MethodGet, Path: "/ws/projects/{project_id}",
		Summary: "Project room (WebSocket)", Tags: []string{"realtime"},
		Description: "Upgrades to a WebSocket that receives the project's events in seq order. " +
			"Without v=2 or since it speaks the seed service's protocol (task_created, status_changed and task_updated only); " +
			"protocol 2 adds every event type, presence, caught_up and heartbeats. " +
			"Refused with 403 before the upgrade for a bad token, an unknown project or a non-member. " +
			"The protocols (events, resume with since, close codes) are documented in /asyncapi.yaml.",
		Parameters: []*huma.Param{
			{Name: "project_id", In: "path", Required: true, Schema: &huma.Schema{Type: "integer"}},
			{Name: "token", In: "query", Required: true, Description: "JWT access token or API token (tw_...)", Schema: &huma.Schema{Type: "string"}},
			{Name: "v", In: "query", Description: "Protocol: 1 (the seed's, the default) or 2", Schema: &huma.Schema{Type: "integer", Enum: []any{1, 2}}},
			{Name: "since", In: "query", Description: "Replay every event after this seq first (protocol 2)", Schema: &huma.Schema{Type: "integer", Minimum: ptr(0.0)}},
		},
		Responses: map[string]*huma.Response{
			"101": {Description: "Switching Protocols: the socket is open"},
			"403": {Description: "Bad token, unknown project or not a member"},
			"422": {Description: "Bad v or since (v=1 with since, since ahead of the newest seq)"},
		},
	})
	doc.AddOperation(&huma.Operation{
		OperationID: "notification_socket", Method: http.MethodGet, Path: "/ws/notifications",
		Summary: "Notifications (WebSocket)", Tags: []string{"realtime"},
		Description: "Upgrades to a WebSocket that receives the caller's notifications as they commit, in seq order, " +
			"as {\"event\": \"notification\", \"data\": {...}, \"seq\": N}, in protocol 2 (caught_up, heartbeats). " +
			"Refused with 403 for a bad token. See /asyncapi.yaml.",
		Parameters: []*huma.Param{
			{Name: "token", In: "query", Required: true, Description: "JWT access token or API token (tw_...)", Schema: &huma.Schema{Type: "string"}},
			{Name: "v", In: "query", Description: "Protocol: 2 only", Schema: &huma.Schema{Type: "integer", Enum: []any{2}}},
			{Name: "since", In: "query", Description: "Replay every notification after this seq first", Schema: &huma.Schema{Type: "integer", Minimum: ptr(0.0)}},
		},
		Responses: map[string]*huma.Response{
			"101": {Description: "Switching Protocols: the socket is open"},
			"403": {Description: "Bad token"},
			"422": {Description: "Bad v or since"},
		},
	})
	doc.AddOperation(&huma.Operation{OperationID: "metrics", Method: http.MethodGet, Path: "/metrics",
		Summary: "Prometheus metrics", Tags: []string{"operations"}, Responses: text("text/plain", "Prometheus text exposition")})
	doc.AddOperation(&huma.Operation{OperationID: "asyncapi", Method: http.MethodGet, Path: "/asyncapi.yaml",
		Summary: "AsyncAPI document of the WebSocket protocol", Tags: []string{"operations"}, Responses: text("application/yaml", "AsyncAPI 3 document")})
	doc.AddOperation(&huma.Operation{OperationID: "swagger_ui", Method: http.MethodGet, Path: "/docs",
		Summary: "Swagger UI (assets embedded)", Tags: []string{"operations"}, Responses: text("text/html", "HTML page")})
	doc.AddOperation(&huma.Operation{OperationID: "web_app", Method: http.MethodGet, Path: "/app/",
		Summary: "The web app (deep links such as /app/projects/1 load it too)", Tags: []string{"app"},
		Responses: text("text/html", "HTML page")})
	doc.AddOperation(&huma.Operation{OperationID: "task_link", Method: http.MethodGet, Path: "/projects/{project_id}/tasks/{task_id}",
		Summary: "A task's link, as emails carry it: redirects to the web app at that task", Tags: []string{"app"},
		Parameters: []*huma.Param{
			{Name: "project_id", In: "path", Required: true, Schema: &huma.Schema{Type: "integer"}},
			{Name: "task_id", In: "path", Required: true, Schema: &huma.Schema{Type: "integer"}},
		},
		Responses: map[string]*huma.Response{"302": {Description: "To /app/projects/{project_id}/tasks/{task_id}"}}})
	doc.AddOperation(&huma.Operation{OperationID: "redoc", Method: http.MethodGet, Path: "/redoc",
		Summary: "ReDoc", Tags: []string{"operations"}, Responses: text("text/html", "HTML page")})
}

func ptr[T any](v T) *T { return &v }
