package httpapi

import (
	"context"
	"github.com/danielgtaylor/huma/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/taskwire/taskwire"
)

type TaskIDParam struct {
	TaskID int64 `path:"task_id" doc:"Task id."`
}

type listTasksInput struct {
	ProjectIDParam
	PageParams
	Status     string    `query:"status" enum:"todo,in_progress,done" doc:"Only tasks with this status."`
	AssigneeID int64     `query:"assignee_id" minimum:"1" doc:"Only tasks assigned to this user."`
	Labels     []string  `query:"label,explode" nullable:"false" doc:"Only tasks carrying this label (compared case-insensitively); repeat it to require several."`
	DueBefore  time.Time `query:"due_before" doc:"Only tasks due strictly before this time (RFC 3339)."`
	Overdue    string    `query:"overdue" enum:"true,false" doc:"true: only tasks past their due date and not done; false: only the others."`
	QueryParam
}

type tasksOutput struct {
	Link     string `header:"Link" doc:"The next page, when there is one."`
	EventSeq int64  `header:"X-Event-Seq" doc:"The project's newest event seq as of the same read as the body; open the project's socket with since set to it."`
	Body     []taskwire.Task
}

func (s *Server) listTasks(ctx context.Context, in *listTasksInput) (*tasksOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	var f taskwire.TaskFilter
	if in.Status != "" {
		st := taskwire.Status(in.Status)
		f.Status = &st
	}
	if in.AssigneeID != 0 {
		f.AssigneeID = &in.AssigneeID
	}
	f.Labels = in.Labels
	f.Query = in.Q
	if !in.DueBefore.IsZero() {
		f.DueBefore = &in.DueBefore
	}
	if in.Overdue != "" {
		overdue := in.Overdue == "true"
		f.Overdue = &overdue
	}
	ts, seq, err := s.svc.Tasks(ctx, userFrom(ctx), in.ProjectID, f, page)
	if err != nil {
		return nil, err
	}
	ts, link := trim(requestFrom(ctx), in.Limit, ts, func(t taskwire.Task) int64 { return t.ID })
	return &tasksOutput{Link: link, EventSeq: seq, Body: ts}, nil
}

const msgStatusEnum = "Input should be 'todo', 'in_progress' or 'done'"

type taskOutput struct {
	ETag string `header:"ETag" doc:"The task's version; send it in If-Match."`
	Body taskwire.Task
}

func taskResponse(t taskwire.Task) *taskOutput { return &taskOutput{ETag: t.ETag(), Body: t} }

type createTaskInput struct {
	ProjectIDParam
	IdempotencyHeader
	Body struct {
		Title       string                   `json:"title" maxLength:"500"`
		Description nullableString           `json:"description,omitzero" maxLength:"20000"`
		Status      nonNull[taskwire.Status] `json:"status,omitzero" enum:"todo,in_progress,done" doc:"Defaults to todo."`
		AssigneeID  nullableInt              `json:"assignee_id,omitzero" doc:"A member of the project."`
		DueAt       nullable[time.Time]      `json:"due_at,omitzero" doc:"When the task is due (RFC 3339), or null."`
		Labels      []string                 `json:"labels,omitzero" doc:"Up to 20 labels of 1 to 50 characters each, trimmed; repeats (compared case-insensitively) are dropped."`
		_           struct{}                 `additionalProperties:"true"`
	}
}

func (s *Server) createTask(ctx context.Context, in *createTaskInput) (*taskOutput, error) {
	b := in.Body
	if err := b.Status.check("status", msgStatusEnum, "enum"); err != nil {
		return nil, err
	}
	scope := "create_task:" + strconv.FormatInt(in.ProjectID, 10)
	t, err := s.svc.CreateTask(ctx, userFrom(ctx), in.ProjectID, taskwire.NewTask{
		Title: b.Title, Description: b.Description.ptr(), Status: b.Status.Value, AssigneeID: b.AssigneeID.ptr(),
		DueAt: b.DueAt.ptr(), Labels: b.Labels,
	}, in.key(ctx, scope, b))
	if err != nil {
		return nil, err
	}
	return taskResponse(t), nil
}

type taskReadOutput struct {
	ETag     string `header:"ETag" doc:"The task's version; send it in If-Match."`
	EventSeq int64  `header:"X-Event-Seq" doc:"The project's newest event seq as of the same read as the body."`
	Body     taskwire.Task
}

func (s *Server) getTask(ctx context.Context, in *TaskIDParam) (*taskReadOutput, error) {
	t, seq, err := s.svc.Task(ctx, userFrom(ctx), in.TaskID)
	if err != nil {
		return nil, err
	}
	return &taskReadOutput{ETag: t.ETag(), EventSeq: seq, Body: t}, nil
}

type IfMatchHeader struct {
	IfMatch string `header:"If-Match" maxLength:"128" doc:"The ETag last seen; 412 if the task has changed since."`
}

// version parses If-Match: one strong or weak ETag, or "*" (any version).
func (h IfMatchHeader) version() *int64 {
	v := strings.TrimSpace(h.IfMatch)
	if v == "" || v == "*" {
		return nil
	}
	v = strings.TrimPrefix(v, "W/")
	if n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64); err == nil && len(v) > 2 && v[0] == '"' {
		return &n
	}
	// An ETag this server never issued matches no version: the domain
	// answers 412 after checking that the task exists and may be seen.
	never := int64(-1)
	return &never
}

type updateTaskInput struct {
	TaskIDParam
	IfMatchHeader
	Body struct {
		Title       nonNull[string]          `json:"title,omitzero" maxLength:"500"`
		Description nullableString           `json:"description,omitzero" maxLength:"20000"`
		Status      nonNull[taskwire.Status] `json:"status,omitzero" enum:"todo,in_progress,done"`
		AssigneeID  nullableInt              `json:"assignee_id,omitzero" doc:"A member of the project; null unassigns."`
		DueAt       nullable[time.Time]      `json:"due_at,omitzero" doc:"When the task is due (RFC 3339); null clears it."`
		Labels      nullable[[]string]       `json:"labels,omitzero" doc:"Replaces the task's labels (null or [] clears them); up to 20 of 1 to 50 characters each."`
		_           struct{}                 `additionalProperties:"true"`
	}
}

func (s *Server) updateTask(ctx context.Context, in *updateTaskInput) (*taskOutput, error) {
	b := in.Body
	if err := b.Title.check("title", "Input should be a valid string", "string_type"); err != nil {
		return nil, err
	}
	if err := b.Status.check("status", msgStatusEnum, "enum"); err != nil {
		return nil, err
	}
	t, err := s.svc.UpdateTask(ctx, userFrom(ctx), in.TaskID, taskwire.TaskPatch{
		Title: b.Title.ptr(), Description: b.Description.option(), Status: b.Status.ptr(),
		AssigneeID: b.AssigneeID.option(), DueAt: b.DueAt.option(), Labels: labelsPatch(b.Labels),
		IfMatch: in.version(),
	})
	if err != nil {
		return nil, err
	}
	return taskResponse(t), nil
}

// labelsPatch turns the PUT body's labels into the domain's: absent is
// left alone, null clears.
func labelsPatch(n nullable[[]string]) taskwire.Optional[[]string] {
	if !n.Set {
		return taskwire.Optional[[]string]{}
	}
	return taskwire.Some(n.Value) // nil for null
}

type labelsOutput struct {
	Body []taskwire.LabelCount
}

func (s *Server) listLabels(ctx context.Context, in *ProjectIDParam) (*labelsOutput, error) {
	ls, err := s.svc.Labels(ctx, userFrom(ctx), in.ProjectID)
	if err != nil {
		return nil, err
	}
	return &labelsOutput{Body: ls}, nil
}

type updateStatusInput struct {
	TaskIDParam
	IfMatchHeader
	Body struct {
		Status taskwire.Status `json:"status" enum:"todo,in_progress,done"`
		_      struct{}        `additionalProperties:"true"`
	}
}

func (s *Server) updateTaskStatus(ctx context.Context, in *updateStatusInput) (*taskOutput, error) {
	t, err := s.svc.SetTaskStatus(ctx, userFrom(ctx), in.TaskID, in.Body.Status, in.version())
	if err != nil {
		return nil, err
	}
	return taskResponse(t), nil
}

func (s *Server) deleteTask(ctx context.Context, in *TaskIDParam) (*struct{}, error) {
	return nil, s.svc.DeleteTask(ctx, userFrom(ctx), in.TaskID)
}

// taskRoutes registers the task routes.
func (s *Server) taskRoutes(api huma.API) {
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
	register(api, huma.Operation{
		OperationID: "list_labels_api_v1_projects__project_id__labels_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/labels", Summary: "List Labels", Tags: []string{"tasks"},
		Description: "The labels on the project's tasks with how many tasks carry each, most used first. A label is named as it was first written in the project.",
		Security:    secured, Errors: projectErrors,
	}, s.listLabels)
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
}
