package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/danielgtaylor/huma/v2"
	"net/http"
	"strconv"

	"github.com/taskwire/taskwire"
)

type ProjectIDParam struct {
	ProjectID int64 `path:"project_id" doc:"Project id."`
}

type listProjectsInput struct {
	PageParams
}

type projectsOutput struct {
	Link string `header:"Link" doc:"The next page, when there is one."`
	Body []taskwire.Project
}

func (s *Server) listProjects(ctx context.Context, in *listProjectsInput) (*projectsOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	ps, err := s.svc.Projects(ctx, userFrom(ctx), page)
	if err != nil {
		return nil, err
	}
	ps, link := trim(requestFrom(ctx), in.Limit, ps, func(p taskwire.Project) int64 { return p.ID })
	return &projectsOutput{Link: link, Body: ps}, nil
}

type IdempotencyHeader struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes the create safe to retry for 24 h."`
}

// key scopes an Idempotency-Key to the caller and the route, and hashes the
// decoded body, so a retry matches whatever its whitespace.
func (h IdempotencyHeader) key(ctx context.Context, scope string, body any) taskwire.IdempotencyKey {
	if h.IdempotencyKey == "" {
		return taskwire.IdempotencyKey{}
	}
	b, _ := json.Marshal(body)
	sum := sha256.Sum256(b)
	return taskwire.IdempotencyKey{
		UserID: userFrom(ctx).ID,
		Scope:  scope,
		Key:    h.IdempotencyKey,
		Hash:   hex.EncodeToString(sum[:]),
	}
}

type createProjectInput struct {
	IdempotencyHeader
	Body struct {
		Name        string         `json:"name" maxLength:"200"`
		Description nullableString `json:"description,omitzero" maxLength:"20000"`
		_           struct{}       `additionalProperties:"true"`
	}
}

type projectOutput struct {
	Body taskwire.Project
}

func (s *Server) createProject(ctx context.Context, in *createProjectInput) (*projectOutput, error) {
	p, err := s.svc.CreateProject(ctx, userFrom(ctx),
		taskwire.NewProject{Name: in.Body.Name, Description: in.Body.Description.ptr()},
		in.key(ctx, "create_project", in.Body))
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: p}, nil
}

type projectWithMembers struct {
	taskwire.Project
	Members []taskwire.Member `json:"members"`
}

type projectDetailsOutput struct {
	EventSeq int64 `header:"X-Event-Seq" doc:"The project's newest event seq as of the same read as the body; open the project's socket with since set to it."`
	Body     projectWithMembers
}

func (s *Server) getProject(ctx context.Context, in *ProjectIDParam) (*projectDetailsOutput, error) {
	p, members, err := s.svc.Project(ctx, userFrom(ctx), in.ProjectID)
	if err != nil {
		return nil, err
	}
	return &projectDetailsOutput{EventSeq: p.LastSeq, Body: projectWithMembers{Project: p, Members: members}}, nil
}

type updateProjectInput struct {
	ProjectIDParam
	Body struct {
		Name        nonNull[string] `json:"name,omitzero" maxLength:"200"`
		Description nullableString  `json:"description,omitzero" maxLength:"20000"`
		_           struct{}        `additionalProperties:"true"`
	}
}

func (s *Server) updateProject(ctx context.Context, in *updateProjectInput) (*projectOutput, error) {
	if err := in.Body.Name.check("name", "Input should be a valid string", "string_type"); err != nil {
		return nil, err
	}
	p, err := s.svc.UpdateProject(ctx, userFrom(ctx), in.ProjectID,
		taskwire.ProjectPatch{Name: in.Body.Name.ptr(), Description: in.Body.Description.option()})
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: p}, nil
}

func (s *Server) deleteProject(ctx context.Context, in *ProjectIDParam) (*struct{}, error) {
	return nil, s.svc.DeleteProject(ctx, userFrom(ctx), in.ProjectID)
}

type addMemberInput struct {
	ProjectIDParam
	IdempotencyHeader
	Body struct {
		UserID   *int64   `json:"user_id,omitempty" doc:"The user to add; or give username or email instead."`
		Username *string  `json:"username,omitempty" maxLength:"150"`
		Email    *string  `json:"email,omitempty" maxLength:"254"`
		_        struct{} `additionalProperties:"true"`
	}
}

func (s *Server) addMember(ctx context.Context, in *addMemberInput) (*messageOutput, error) {
	b := in.Body
	if b.UserID == nil && b.Username == nil && b.Email == nil {
		return nil, invalid(issue{Loc: []any{"body", "user_id"}, Msg: "Field required", Type: "missing"})
	}
	sel := taskwire.UserSelector{ID: b.UserID, Username: b.Username, Email: b.Email}
	scope := "add_member:" + strconv.FormatInt(in.ProjectID, 10)
	if _, err := s.svc.AddMember(ctx, userFrom(ctx), in.ProjectID, sel, in.key(ctx, scope, b)); err != nil {
		return nil, err
	}
	return message("Member added successfully"), nil
}

type removeMemberInput struct {
	ProjectIDParam
	UserID int64 `path:"user_id" doc:"The member to remove (the caller's own id to leave)."`
}

func (s *Server) removeMember(ctx context.Context, in *removeMemberInput) (*struct{}, error) {
	return nil, s.svc.RemoveMember(ctx, userFrom(ctx), in.ProjectID, in.UserID)
}

// projectRoutes registers the project and member routes.
func (s *Server) projectRoutes(api huma.API) {
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
}
