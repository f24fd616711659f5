package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
