package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

type signupInput struct {
	Body struct {
		Email    string   `json:"email" format:"email" maxLength:"254" doc:"A bare address: local@domain.tld."`
		Username string   `json:"username" maxLength:"150"`
		Password string   `json:"password" doc:"At most 72 bytes (bcrypt's limit)."`
		_        struct{} `additionalProperties:"true"`
	}
}

type userOutput struct {
	Body taskwire.User
}

func (s *Server) signup(ctx context.Context, in *signupInput) (*userOutput, error) {
	if err := s.limit(ctx, s.signupLimit); err != nil {
		return nil, err
	}
	u, err := s.svc.Signup(ctx, taskwire.Signup{Email: in.Body.Email, Username: in.Body.Username, Password: in.Body.Password})
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: u}, nil
}

// limit counts a request against the caller's address. Like the seed's
// limiter it runs in the handler, so requests refused by validation do not
// count.
func (s *Server) limit(ctx context.Context, l Limiter) error {
	r := requestFrom(ctx)
	if r == nil {
		return nil
	}
	ok, wait := l.Allow(ctx, s.clientAddr(r))
	if ok {
		return nil
	}
	msg := "Rate limit exceeded: " + l.Rate().String()
	return huma.ErrorWithHeaders(&apiError{status: http.StatusTooManyRequests, Detail: msg, Error_: msg},
		http.Header{"Retry-After": {retryAfter(wait)}})
}

type loginInput struct {
	RawBody     []byte `contentType:"application/x-www-form-urlencoded"`
	ContentType string `header:"Content-Type" hidden:"true"`
}

type tokenOutput struct {
	Body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type" example:"bearer"`
	}
}

func loginOperation() huma.Operation {
	return huma.Operation{
		OperationID: "login_api_v1_auth_login_post", Method: http.MethodPost, Path: "/api/v1/auth/login",
		Summary: "Login", Tags: []string{"auth"},
		Description: "OAuth2 password flow: a form with `username` (or the email) and `password`; " +
			"`grant_type`, `scope`, `client_id` and `client_secret` are accepted and ignored. Rate-limited per client address.",
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}
}

// loginFormSchema documents the form, which huma cannot derive from a raw body.
func loginFormSchema() *huma.Schema {
	str := &huma.Schema{Type: "string"}
	return &huma.Schema{
		Type:  "object",
		Title: "Body_login_api_v1_auth_login_post",
		Properties: map[string]*huma.Schema{
			"grant_type":    {Type: "string", Pattern: "^password$", Nullable: true},
			"username":      str,
			"password":      {Type: "string", Format: "password"},
			"scope":         {Type: "string", Default: ""},
			"client_id":     {Type: "string", Nullable: true},
			"client_secret": {Type: "string", Format: "password", Nullable: true},
		},
		Required: []string{"username", "password"},
	}
}

func (s *Server) login(ctx context.Context, in *loginInput) (*tokenOutput, error) {
	form, ok := parseForm(in.ContentType, in.RawBody)
	if !ok {
		return nil, invalid(issue{Loc: []any{"body"}, Msg: badFormMsg, Type: "value_error"})
	}
	var missing []issue
	for _, f := range []string{"username", "password"} {
		if _, ok := form[f]; !ok {
			missing = append(missing, issue{Loc: []any{"body", f}, Msg: "Field required", Type: "missing"})
		}
	}
	if len(missing) > 0 {
		return nil, invalid(missing...)
	}
	if gt := form.Get("grant_type"); gt != "" && gt != "password" {
		return nil, invalid(issue{Loc: []any{"body", "grant_type"}, Msg: "String should match pattern '^password$'", Type: "string_pattern_mismatch"})
	}
	if err := s.limit(ctx, s.loginLimit); err != nil {
		return nil, err
	}
	u, err := s.svc.Authenticate(ctx, form.Get("username"), form.Get("password"))
	if err != nil {
		return nil, err
	}
	token, err := s.tokens.Issue(u.ID)
	if err != nil {
		return nil, err
	}
	out := &tokenOutput{}
	out.Body.AccessToken, out.Body.TokenType = token, "bearer"
	return out, nil
}

const badFormMsg = "Expected form data (application/x-www-form-urlencoded or multipart/form-data)"

// parseForm reads an urlencoded or multipart form, as FastAPI's form
// parameters accept both. Like FastAPI it reads any other body (JSON, say)
// as an empty form, so each required field is reported missing. It reports
// false for a multipart body it cannot parse.
func parseForm(contentType string, body []byte) (url.Values, bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return url.Values{}, true
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		return v, err == nil
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		v := url.Values{}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return v, true
			}
			if err != nil {
				return nil, false
			}
			b, err := io.ReadAll(io.LimitReader(p, 1<<16))
			if err != nil {
				return nil, false
			}
			v.Add(p.FormName(), string(b))
		}
	}
	return url.Values{}, true
}

func reflectType(v any) reflect.Type { return reflect.TypeOf(v) }

// authRoutes registers signup and login.
func (s *Server) authRoutes(api huma.API) {
	register(api, huma.Operation{
		OperationID: "signup_api_v1_auth_signup_post", Method: http.MethodPost, Path: "/api/v1/auth/signup",
		Summary: "Signup", Tags: []string{"auth"}, DefaultStatus: http.StatusCreated,
		Description: "Create an account. The email is checked first, then the username. Rate-limited per client address.",
		Errors:      []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, s.signup)
	register(api, loginOperation(), s.login)
}
