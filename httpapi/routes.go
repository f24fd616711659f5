package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// secured marks an operation as requiring a bearer token.
var secured = []map[string][]string{{"OAuth2PasswordBearer": {}}}

// register is huma.Register with Taskwire's body limit. huma refuses a body
// that reaches MaxBodyBytes, so for a limit of 1 MiB it is set a byte past.
func register[I, O any](api huma.API, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.MaxBodyBytes = maxBodyBytes + 1
	huma.Register(api, op, h)
}

// routes registers every operation. Seed routes keep the seed's paths,
// operation ids and summaries.
func (s *Server) routes() {
	api := s.api
	register(api, huma.Operation{
		OperationID: "root__get", Method: http.MethodGet, Path: "/",
		Summary: "Root", Tags: []string{"meta"},
		Description: "A greeting, as the seed service answered.",
	}, s.root)

	// Auth.
	register(api, huma.Operation{
		OperationID: "signup_api_v1_auth_signup_post", Method: http.MethodPost, Path: "/api/v1/auth/signup",
		Summary: "Signup", Tags: []string{"auth"}, DefaultStatus: http.StatusCreated,
		Description: "Create an account. The email is checked first, then the username. Rate-limited per client address.",
		Errors:      []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, s.signup)
	register(api, loginOperation(), s.login)

	// Users.
	register(api, huma.Operation{
		OperationID: "get_me_api_v1_users_me_get", Method: http.MethodGet, Path: "/api/v1/users/me",
		Summary: "Current user", Tags: []string{"users"}, Security: secured,
		Errors: []int{http.StatusUnauthorized},
	}, s.me)
	register(api, huma.Operation{
		OperationID: "lookup_user_api_v1_users_lookup_get", Method: http.MethodGet, Path: "/api/v1/users/lookup",
		Summary: "Find a user to invite", Tags: []string{"users"}, Security: secured,
		Description: "Find a user by exact username or email (exactly one). Answers only the id and username, never the email.",
		Errors:      []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.lookupUser)

	// Projects.
	projectErrors := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity}
	for _, path := range []string{"/api/v1/projects/", "/api/v1/projects"} {
		hidden := path == "/api/v1/projects"
		suffix := ""
		if hidden {
			suffix = "_noslash"
		}
		register(api, huma.Operation{
			OperationID: "get_user_projects_api_v1_projects__get" + suffix, Method: http.MethodGet, Path: path,
			Summary: "Get User Projects", Tags: []string{"projects"}, Security: secured, Hidden: hidden,
			Description: "The projects the caller owns or belongs to, by id. " + pagingDoc,
			Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
		}, s.listProjects)
		register(api, huma.Operation{
			OperationID: "create_project_api_v1_projects__post" + suffix, Method: http.MethodPost, Path: path,
			Summary: "Create Project", Tags: []string{"projects"}, Security: secured, Hidden: hidden,
			DefaultStatus: http.StatusCreated,
			Description:   "Create a project; the caller becomes its owner and first member. " + idempotencyDoc,
			Errors:        []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
		}, s.createProject)
	}
	register(api, huma.Operation{
		OperationID: "get_project_details_api_v1_projects__project_id__get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}", Summary: "Get Project Details", Tags: []string{"projects"},
		Security: secured, Errors: projectErrors,
	}, s.getProject)
	register(api, huma.Operation{
		OperationID: "update_project_api_v1_projects__project_id__patch", Method: http.MethodPatch,
		Path: "/api/v1/projects/{project_id}", Summary: "Update Project", Tags: []string{"projects"},
		Description: "Rename or re-describe a project (owner only). Emits project_updated.",
		Security:    secured, Errors: projectErrors,
	}, s.updateProject)
	register(api, huma.Operation{
		OperationID: "delete_project_api_v1_projects__project_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/projects/{project_id}", Summary: "Delete Project", Tags: []string{"projects"},
		Description: "Delete a project with its tasks and memberships (owner only). Emits project_deleted; the room's sockets then close with 4403.",
		Security:    secured, DefaultStatus: http.StatusNoContent, Errors: projectErrors,
	}, s.deleteProject)
	register(api, huma.Operation{
		OperationID: "add_project_member_api_v1_projects__project_id__members_post", Method: http.MethodPost,
		Path: "/api/v1/projects/{project_id}/members", Summary: "Add Project Member", Tags: []string{"projects"},
		Description: "Add a user (by user_id, username or email) to the project (owner only). Emits member_added. " + idempotencyDoc,
		Security:    secured, DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.addMember)
	register(api, huma.Operation{
		OperationID: "remove_project_member_api_v1_projects__project_id__members__user_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/projects/{project_id}/members/{user_id}", Summary: "Remove Project Member", Tags: []string{"projects"},
		Description: "The owner removes a member, or a member leaves. The owner cannot be removed. The member's tasks in the project are unassigned. Emits member_removed.",
		Security:    secured, DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.removeMember)

	// Tasks.
	register(api, huma.Operation{
		OperationID: "get_tasks_api_v1_projects__project_id__tasks_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/tasks", Summary: "Get Tasks", Tags: []string{"tasks"},
		Description: "The project's tasks by id, optionally filtered. " + pagingDoc,
		Security:    secured, Errors: projectErrors,
	}, s.listTasks)
	register(api, huma.Operation{
		OperationID: "create_task_api_v1_projects__project_id__tasks_post", Method: http.MethodPost,
		Path: "/api/v1/projects/{project_id}/tasks", Summary: "Create Task", Tags: []string{"tasks"},
		Description: "Create a task. Emits task_created. " + idempotencyDoc,
		Security:    secured, DefaultStatus: http.StatusCreated, Errors: projectErrors,
	}, s.createTask)
	taskErrors := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}
	register(api, huma.Operation{
		OperationID: "get_task_api_v1_tasks__task_id__get", Method: http.MethodGet,
		Path: "/api/v1/tasks/{task_id}", Summary: "Get Task", Tags: []string{"tasks"},
		Security: secured, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.getTask)
	register(api, huma.Operation{
		OperationID: "update_task_api_v1_tasks__task_id__put", Method: http.MethodPut,
		Path: "/api/v1/tasks/{task_id}", Summary: "Update Task", Tags: []string{"tasks"},
		Description: "Apply the fields sent (\"assignee_id\": null unassigns). Emits task_updated unless nothing changed. " + ifMatchDoc,
		Security:    secured, Errors: taskErrors,
	}, s.updateTask)
	register(api, huma.Operation{
		OperationID: "update_task_status_api_v1_tasks__task_id__status_patch", Method: http.MethodPatch,
		Path: "/api/v1/tasks/{task_id}/status", Summary: "Update Task Status", Tags: []string{"tasks"},
		Description: "Change a task's status. Emits status_changed unless nothing changed. " + ifMatchDoc,
		Security:    secured, Errors: taskErrors,
	}, s.updateTaskStatus)
	register(api, huma.Operation{
		OperationID: "delete_task_api_v1_tasks__task_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/tasks/{task_id}", Summary: "Delete Task", Tags: []string{"tasks"},
		Description: "Delete a task. Emits task_deleted.",
		Security:    secured, DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.deleteTask)

	// Events.
	register(api, huma.Operation{
		OperationID: "list_events_api_v1_projects__project_id__events_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/events", Summary: "Project event log", Tags: []string{"events"},
		Description: "The project's events after `since`, oldest first. Answers 410 with `oldest_seq` when `since` is older than the retained log. " + pagingDoc,
		Security:    secured,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity},
	}, s.listEvents)

	register(api, huma.Operation{
		OperationID: "get_presence_api_v1_projects__project_id__presence_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/presence", Summary: "Who is connected", Tags: []string{"realtime"},
		Description: "Members with an open socket in the project's room now, with how many sockets each. " +
			"The room also receives presence_joined / presence_left when a member's first socket opens or last one closes.",
		Security: secured,
		Errors:   []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.presence)

	// Notifications.
	register(api, huma.Operation{
		OperationID: "list_notifications_api_v1_notifications_get", Method: http.MethodGet, Path: "/api/v1/notifications",
		Summary: "Inbox", Tags: []string{"notifications"}, Security: secured,
		Description: "The caller's notifications, newest first; `X-Unread-Count` counts the unread ones. " + pagingDoc,
		Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.listNotifications)
	register(api, huma.Operation{
		OperationID: "mark_notification_read_api_v1_notifications__notification_id__read_post", Method: http.MethodPost,
		Path: "/api/v1/notifications/{notification_id}/read", Summary: "Mark read", Tags: []string{"notifications"}, Security: secured,
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.markRead)
	register(api, huma.Operation{
		OperationID: "mark_all_read_api_v1_notifications_read_all_post", Method: http.MethodPost,
		Path: "/api/v1/notifications/read-all", Summary: "Mark all read", Tags: []string{"notifications"}, Security: secured,
		Errors: []int{http.StatusUnauthorized},
	}, s.markAllRead)
	register(api, huma.Operation{
		OperationID: "get_notification_settings_api_v1_users_me_notification_settings_get", Method: http.MethodGet,
		Path: "/api/v1/users/me/notification-settings", Summary: "Email settings", Tags: []string{"notifications"}, Security: secured,
		Description: "Whether each kind of email (task_assigned, member_added) is sent to the caller.",
		Errors:      []int{http.StatusUnauthorized},
	}, s.getSettings)
	register(api, huma.Operation{
		OperationID: "put_notification_settings_api_v1_users_me_notification_settings_put", Method: http.MethodPut,
		Path: "/api/v1/users/me/notification-settings", Summary: "Change email settings", Tags: []string{"notifications"}, Security: secured,
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.putSettings)

	// Operations.
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

	s.documentRawRoutes()
	s.mux.HandleFunc("GET /ws/projects/{project_id}", s.projectSocket)
	s.mux.HandleFunc("GET /ws/notifications", s.notificationSocket)
	docs := swaggerUI()
	s.mux.Handle("GET /docs", docs)
	s.mux.Handle("GET /docs/", docs)
	s.mux.HandleFunc("GET /redoc", s.redoc)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /asyncapi.yaml", s.asyncAPI)
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
			{Name: "token", In: "query", Required: true, Description: "JWT access token", Schema: &huma.Schema{Type: "string"}},
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
			{Name: "token", In: "query", Required: true, Description: "JWT access token", Schema: &huma.Schema{Type: "string"}},
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
	doc.AddOperation(&huma.Operation{OperationID: "redoc", Method: http.MethodGet, Path: "/redoc",
		Summary: "ReDoc", Tags: []string{"operations"}, Responses: text("text/html", "HTML page")})
}

func ptr[T any](v T) *T { return &v }
