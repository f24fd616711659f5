package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

// apiError is every error response: {"detail": "<message>"} or, for
// validation, {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}, the
// shapes FastAPI gave the seed's clients.
type apiError struct {
	status int
	Detail any `json:"detail"`
	// Error repeats a rate-limit message under the key the seed's limiter used.
	Error_ string `json:"error,omitempty"`
	// OldestSeq accompanies 410 answers from the event log.
	OldestSeq *int64 `json:"oldest_seq,omitempty"`
}

// issue is one entry of a 422 detail list.
type issue struct {
	Loc  []any          `json:"loc"`
	Msg  string         `json:"msg"`
	Type string         `json:"type"`
	Ctx  map[string]any `json:"ctx,omitempty"`
}

// jsonErrorText is the parser's complaint without huma's wrapping.
func jsonErrorText(err error) string {
	var d *huma.ErrorDetail
	if errors.As(err, &d) {
		return d.Message
	}
	return err.Error()
}

func (e *apiError) Error() string {
	if s, ok := e.Detail.(string); ok {
		return s
	}
	return http.StatusText(e.status)
}

func (e *apiError) GetStatus() int { return e.status }

func detail(status int, msg string) *apiError { return &apiError{status: status, Detail: msg} }

func invalid(issues ...issue) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, Detail: issues}
}

// statusOf maps a domain error kind to its HTTP status; the one place that does.
var statusOf = map[taskwire.Kind]int{
	taskwire.Internal:           http.StatusInternalServerError,
	taskwire.Invalid:            http.StatusUnprocessableEntity,
	taskwire.BadRequest:         http.StatusBadRequest,
	taskwire.Unauthenticated:    http.StatusUnauthorized,
	taskwire.Forbidden:          http.StatusForbidden,
	taskwire.NotFound:           http.StatusNotFound,
	taskwire.Conflict:           http.StatusConflict,
	taskwire.Gone:               http.StatusGone,
	taskwire.PreconditionFailed: http.StatusPreconditionFailed,
	taskwire.RateLimited:        http.StatusTooManyRequests,
	taskwire.Unavailable:        http.StatusServiceUnavailable,
}

// statusClientClosed is answered, to nobody, for a request whose client
// hung up first; nginx logs the same code for the same thing.
const statusClientClosed = 499

// fromDomain converts an error returned by the domain. Internal errors are
// logged here, once, and answered without detail.
func fromDomain(logger *slog.Logger, err error) *apiError {
	var gone *taskwire.GoneError
	if errors.As(err, &gone) {
		oldest := gone.OldestSeq
		return &apiError{status: http.StatusGone, Detail: gone.Error(), OldestSeq: &oldest}
	}
	if errors.Is(err, context.Canceled) {
		// The client went away before its answer was ready (a write the
		// store had already queued is still committed). Nobody reads the
		// answer; the request log shows nginx's 499, not a server error.
		logger.Debug("client closed the request", "err", err)
		return detail(statusClientClosed, "Client closed the request")
	}
	e, ok := taskwire.AsError(err)
	if !ok || e.Kind == taskwire.Internal {
		logger.Error("internal error", "err", err)
		return detail(http.StatusInternalServerError, "Internal Server Error")
	}
	if e.Kind == taskwire.Invalid {
		loc := []any{"body"}
		switch e.Field {
		case "":
		case "Idempotency-Key":
			loc = []any{"header", e.Field}
		case "since", "q":
			loc = []any{"query", e.Field}
		default:
			loc = append(loc, e.Field)
		}
		return invalid(issue{Loc: loc, Msg: e.Message, Type: "value_error"})
	}
	return detail(statusOf[e.Kind], e.Message)
}

// newErrorWithContext replaces huma's error constructor so that every
// error huma writes — validation, body size, handler errors — takes the
// seed's shapes and headers.
func newErrorWithContext(logger func(huma.Context) *slog.Logger) func(huma.Context, int, string, ...error) huma.StatusError {
	return func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		e := convert(ctx, logger, status, msg, errs)
		if ctx != nil {
			switch e.status {
			case http.StatusUnauthorized:
				ctx.SetHeader("WWW-Authenticate", "Bearer")
			}
		}
		return e
	}
}

func convert(ctx huma.Context, logger func(huma.Context) *slog.Logger, status int, msg string, errs []error) *apiError {
	for _, err := range errs {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae
		}
	}
	if status == http.StatusInternalServerError {
		var l *slog.Logger
		if ctx != nil {
			l = logger(ctx)
		} else {
			l = slog.Default()
		}
		return fromDomain(l, errors.Join(errs...))
	}
	switch status {
	case http.StatusBadRequest:
		// huma answers 400 when the body is missing or is not JSON.
		if strings.Contains(msg, "body is required") {
			return missingBody(ctx)
		}
		var ctx map[string]any
		if len(errs) > 0 {
			ctx = map[string]any{"error": jsonErrorText(errs[0])}
		}
		return invalid(issue{Loc: []any{"body"}, Msg: "JSON decode error", Type: "json_invalid", Ctx: ctx})
	case http.StatusUnprocessableEntity:
		return validationError(msg, errs)
	case http.StatusRequestEntityTooLarge:
		return detail(status, "Request body too large (limit 1 MiB)")
	case http.StatusUnsupportedMediaType:
		// FastAPI does not parse a body it was not told is JSON, and answers
		// that it is not an object.
		return invalid(issue{Loc: []any{"body"}, Msg: "Input should be a valid dictionary or object to extract fields from (send Content-Type: application/json)", Type: "model_attributes_type"})
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return detail(status, msg)
}

// missingBody answers an empty body as FastAPI does: a JSON body is
// missing as a whole, an empty form lacks each of its required fields.
func missingBody(ctx huma.Context) *apiError {
	if ctx != nil && ctx.Operation() != nil && ctx.Operation().RequestBody != nil {
		if form := ctx.Operation().RequestBody.Content["application/x-www-form-urlencoded"]; form != nil && form.Schema != nil {
			var issues []issue
			for _, f := range form.Schema.Required {
				issues = append(issues, issue{Loc: []any{"body", f}, Msg: "Field required", Type: "missing"})
			}
			if len(issues) > 0 {
				return invalid(issues...)
			}
		}
	}
	return invalid(issue{Loc: []any{"body"}, Msg: "Field required", Type: "missing"})
}

// validationError turns huma's validation details into FastAPI's list.
func validationError(msg string, errs []error) *apiError {
	var issues []issue
	for _, err := range errs {
		var d *huma.ErrorDetail
		if !errors.As(err, &d) {
			issues = append(issues, issue{Loc: []any{"body"}, Msg: err.Error(), Type: "value_error"})
			continue
		}
		issues = append(issues, fromDetail(d))
	}
	if len(issues) == 0 {
		issues = append(issues, issue{Loc: []any{"body"}, Msg: msg, Type: "value_error"})
	}
	return invalid(issues...)
}

func fromDetail(d *huma.ErrorDetail) issue {
	loc := splitLocation(d.Location)
	m := d.Message
	var name string
	switch {
	case fmtScan(m, "expected required property %s to be present", &name):
		return issue{Loc: append(loc, name), Msg: "Field required", Type: "missing"}
	case strings.HasPrefix(m, "required ") && strings.HasSuffix(m, " parameter is missing"):
		return issue{Loc: loc, Msg: "Field required", Type: "missing"}
	case m == "expected string":
		return issue{Loc: loc, Msg: "Input should be a valid string", Type: "string_type"}
	case m == "expected integer", m == "expected number":
		return issue{Loc: loc, Msg: "Input should be a valid integer", Type: "int_type"}
	case m == "invalid integer", strings.HasPrefix(m, "invalid integer"):
		return issue{Loc: loc, Msg: "Input should be a valid integer, unable to parse string as an integer", Type: "int_parsing"}
	case m == "expected boolean", m == "invalid boolean":
		return issue{Loc: loc, Msg: "Input should be a valid boolean", Type: "bool_parsing"}
	case m == "expected object":
		return issue{Loc: loc, Msg: "Input should be a valid dictionary or object to extract fields from", Type: "model_attributes_type"}
	case strings.HasPrefix(m, "expected value to be one of"):
		return issue{Loc: loc, Msg: "Input should be " + oneOf(m), Type: "enum"}
	case strings.HasPrefix(m, "expected length <="):
		return issue{Loc: loc, Msg: "String should have at most" + strings.TrimPrefix(m, "expected length <=") + " characters", Type: "string_too_long"}
	case strings.HasPrefix(m, "expected length >="):
		return issue{Loc: loc, Msg: "String should have at least" + strings.TrimPrefix(m, "expected length >=") + " characters", Type: "string_too_short"}
	case strings.HasPrefix(m, "expected number >="):
		return issue{Loc: loc, Msg: "Input should be greater than or equal to" + strings.TrimPrefix(m, "expected number >="), Type: "greater_than_equal"}
	case strings.HasPrefix(m, "expected number <="):
		return issue{Loc: loc, Msg: "Input should be less than or equal to" + strings.TrimPrefix(m, "expected number <="), Type: "less_than_equal"}
	case strings.HasPrefix(m, "expected string to be RFC 5322 email"):
		return issue{Loc: loc, Msg: "value is not a valid email address", Type: "value_error"}
	}
	return issue{Loc: loc, Msg: m, Type: "value_error"}
}

func fmtScan(s, format string, name *string) bool {
	prefix, suffix, _ := strings.Cut(format, "%s")
	if !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, suffix) || len(s) < len(prefix)+len(suffix) {
		return false
	}
	*name = s[len(prefix) : len(s)-len(suffix)]
	return true
}

// oneOf renders huma's `expected value to be one of "a, b, c"` as
// pydantic's `'a', 'b' or 'c'`.
func oneOf(m string) string {
	_, list, _ := strings.Cut(m, `"`)
	list = strings.TrimSuffix(list, `"`)
	parts := strings.Split(list, ", ")
	for i, p := range parts {
		parts[i] = "'" + p + "'"
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// splitLocation turns "body.items[2].title" into ["body", "items", 2, "title"].
func splitLocation(loc string) []any {
	var out []any
	for part := range strings.SplitSeq(loc, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part[i:], ']')
			if j < 0 {
				out = append(out, part[i:])
				break
			}
			if n, err := strconv.Atoi(part[i+1 : i+j]); err == nil {
				out = append(out, n)
			} else {
				out = append(out, part[i+1:i+j])
			}
			part = part[i+j+1:]
		}
	}
	if len(out) == 0 {
		out = []any{"body"}
	}
	return out
}

// writeError writes e outside huma (middleware, WebSocket handshake, mux
// fallbacks).
func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(e) // the client may be gone; nothing to do
}
