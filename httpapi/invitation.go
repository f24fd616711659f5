package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

type InvitationIDParam struct {
	InvitationID int64 `path:"invitation_id" doc:"Invitation id."`
}

type createInvitationInput struct {
	ProjectIDParam
	Body struct {
		Email string   `json:"email" format:"email" maxLength:"254" doc:"The address to invite: a bare address (local@domain.tld), checked as signup checks it."`
		_     struct{} `additionalProperties:"true"`
	}
}

type invitationOutput struct {
	Body taskwire.Invitation
}

func (s *Server) createInvitation(ctx context.Context, in *createInvitationInput) (*invitationOutput, error) {
	inv, err := s.svc.CreateInvitation(ctx, userFrom(ctx), in.ProjectID, in.Body.Email)
	if err != nil {
		return nil, err
	}
	return &invitationOutput{Body: inv}, nil
}

type invitationsOutput struct {
	Body []taskwire.Invitation
}

func (s *Server) listInvitations(ctx context.Context, in *ProjectIDParam) (*invitationsOutput, error) {
	invs, err := s.svc.Invitations(ctx, userFrom(ctx), in.ProjectID)
	if err != nil {
		return nil, err
	}
	return &invitationsOutput{Body: invs}, nil
}

func (s *Server) revokeInvitation(ctx context.Context, in *InvitationIDParam) (*struct{}, error) {
	return nil, s.svc.RevokeInvitation(ctx, userFrom(ctx), in.InvitationID)
}

type acceptInvitationInput struct {
	Body struct {
		Token string   `json:"token" minLength:"1" maxLength:"200" doc:"The token of the invitation's link (the last part of /app/invite/<token>)."`
		_     struct{} `additionalProperties:"true"`
	}
}

func (s *Server) acceptInvitation(ctx context.Context, in *acceptInvitationInput) (*projectOutput, error) {
	p, err := s.svc.AcceptInvitation(ctx, userFrom(ctx), in.Body.Token)
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: p}, nil
}

// invitationRoutes registers the invitation routes.
func (s *Server) invitationRoutes(api huma.API) {
	tags := []string{"invitations"}
	register(api, huma.Operation{
		OperationID: "create_invitation_api_v1_projects__project_id__invitations_post", Method: http.MethodPost,
		Path: "/api/v1/projects/{project_id}/invitations", Summary: "Invite by Email", Tags: tags,
		Description: "Invite an address to the project (its owner only). An email with a link to `BASE_URL/app/invite/<token>` " +
			"is sent at once by a durable job; the link works once, for `INVITATION_TTL` (7 days). Only a hash of the token is stored. " +
			"A new invitation to an address replaces its pending one. 409 if the address is a member's.",
		Security: secured, DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}, s.createInvitation)
	register(api, huma.Operation{
		OperationID: "list_invitations_api_v1_projects__project_id__invitations_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/invitations", Summary: "List Invitations", Tags: tags,
		Description: "The project's invitations, pending, expired and accepted, oldest first (its owner only).",
		Security:    secured, Errors: projectErrors,
	}, s.listInvitations)
	register(api, huma.Operation{
		OperationID: "revoke_invitation_api_v1_invitations__invitation_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/invitations/{invitation_id}", Summary: "Revoke Invitation", Tags: tags,
		Description: "Delete an invitation (the project's owner only): its link answers 410 from then on.",
		Security:    secured, DefaultStatus: http.StatusNoContent, Errors: projectErrors,
	}, s.revokeInvitation)
	register(api, huma.Operation{
		OperationID: "accept_invitation_api_v1_invitations_accept_post", Method: http.MethodPost,
		Path: "/api/v1/invitations/accept", Summary: "Accept Invitation", Tags: tags,
		Description: "Join the project of an invitation sent to the caller's address (compared case-insensitively; else 403). " +
			"Emits member_added; the owner is notified (`invitation_accepted`). Answers the project. " +
			"410 `Invitation is no longer valid` for a token that is used, expired, revoked or unknown.",
		Security: secured,
		Errors:   []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusGone, http.StatusUnprocessableEntity},
	}, s.acceptInvitation)
}
