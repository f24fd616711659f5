package httpapi

import (
	"context"

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
