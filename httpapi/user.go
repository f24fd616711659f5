package httpapi

import (
	"context"
	"github.com/danielgtaylor/huma/v2"
	"net/http"

	"github.com/taskwire/taskwire"
)

func (s *Server) me(ctx context.Context, _ *struct{}) (*userOutput, error) {
	return &userOutput{Body: userFrom(ctx)}, nil
}

type lookupInput struct {
	Username string `query:"username" maxLength:"150" doc:"Exact username."`
	Email    string `query:"email" maxLength:"254" doc:"Exact email."`
}

type userRefOutput struct {
	Body taskwire.UserRef
}

func (s *Server) lookupUser(ctx context.Context, in *lookupInput) (*userRefOutput, error) {
	var sel taskwire.UserSelector
	if in.Username != "" {
		sel.Username = &in.Username
	}
	if in.Email != "" {
		sel.Email = &in.Email
	}
	if sel.Username == nil && sel.Email == nil || sel.Username != nil && sel.Email != nil {
		return nil, invalid(issue{Loc: []any{"query", "username"}, Msg: "Give exactly one of username or email", Type: "value_error"})
	}
	ref, err := s.svc.LookupUser(ctx, sel)
	if err != nil {
		return nil, err
	}
	return &userRefOutput{Body: ref}, nil
}

type messageOutput struct {
	Body struct {
		Message string `json:"message"`
	}
}

func message(msg string) *messageOutput {
	out := &messageOutput{}
	out.Body.Message = msg
	return out
}

// userRoutes registers the user routes.
func (s *Server) userRoutes(api huma.API) {
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
}
