package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

type TokenIDParam struct {
	TokenID int64 `path:"token_id" doc:"API token id."`
}

// apiTokenBody is the body of a token's creation.
type apiTokenBody struct {
	Name      string              `json:"name" doc:"1 to 100 characters once surrounding spaces are trimmed; no control characters."`
	ExpiresAt nullable[time.Time] `json:"expires_at,omitzero" doc:"When the token stops working (RFC 3339, in the future), or null (the default) for never."`
	_         struct{}            `additionalProperties:"true"`
}

type createAPITokenInput struct {
	Body apiTokenBody
}

// createdAPIToken is a token as its creation answers it: the only time the
// secret is shown.
type createdAPIToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Token      string     `json:"token" doc:"The secret: tw_ and 43 characters. Shown only in this answer; store it now."`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

type createAPITokenOutput struct {
	Body createdAPIToken
}

// msgTokenFromToken refuses an API token's creation with another API
// token: a leaked token must not be able to outlive its revocation.
const msgTokenFromToken = "API tokens cannot create API tokens: sign in with your password"

func (s *Server) createAPIToken(ctx context.Context, in *createAPITokenInput) (*createAPITokenOutput, error) {
	if apiTokenFrom(ctx) != 0 {
		return nil, detail(http.StatusForbidden, msgTokenFromToken)
	}
	t, secret, err := s.svc.CreateAPIToken(ctx, userFrom(ctx), taskwire.NewAPIToken{Name: in.Body.Name, ExpiresAt: in.Body.ExpiresAt.ptr()})
	if err != nil {
		return nil, err
	}
	return &createAPITokenOutput{Body: createdAPIToken{ID: t.ID, Name: t.Name, Token: secret, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}}, nil
}

type apiTokensOutput struct {
	Body []taskwire.APIToken
}

func (s *Server) listAPITokens(ctx context.Context, _ *struct{}) (*apiTokensOutput, error) {
	ts, err := s.svc.APITokens(ctx, userFrom(ctx))
	if err != nil {
		return nil, err
	}
	return &apiTokensOutput{Body: ts}, nil
}

func (s *Server) revokeAPIToken(ctx context.Context, in *TokenIDParam) (*struct{}, error) {
	return nil, s.svc.RevokeAPIToken(ctx, userFrom(ctx), in.TokenID)
}

// apiTokenRoutes registers the caller's API tokens.
func (s *Server) apiTokenRoutes(api huma.API) {
	register(api, huma.Operation{
		OperationID: "create_api_token_api_v1_users_me_tokens_post", Method: http.MethodPost, Path: "/api/v1/users/me/tokens",
		Summary: "Create API Token", Tags: []string{"users"}, Security: secured, DefaultStatus: http.StatusCreated,
		Description: "Make an API token for scripts and integrations. It works wherever a login token does: " +
			"`Authorization: Bearer tw_...` on every route, `?token=tw_...` on the sockets. " +
			"The secret (`token`) is in this answer only; the server keeps just its SHA-256. " +
			"A request authenticated with an API token is refused (403): only a password sign-in makes tokens.",
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, s.createAPIToken)
	register(api, huma.Operation{
		OperationID: "list_api_tokens_api_v1_users_me_tokens_get", Method: http.MethodGet, Path: "/api/v1/users/me/tokens",
		Summary: "List API Tokens", Tags: []string{"users"}, Security: secured,
		Description: "The caller's API tokens, newest first, without their secrets. " +
			"`last_used_at` is kept to within about a minute.",
		Errors: []int{http.StatusUnauthorized},
	}, s.listAPITokens)
	register(api, huma.Operation{
		OperationID: "revoke_api_token_api_v1_users_me_tokens__token_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/users/me/tokens/{token_id}", Summary: "Revoke API Token", Tags: []string{"users"}, Security: secured,
		Description: "Delete one of the caller's API tokens. From then on it is refused (401) on every instance, " +
			"and the sockets opened with it are closed with 4401.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.revokeAPIToken)
}
