package httpapi

import (
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

// searchQueryDoc says what a full-text query is, for ?q= of the search and
// of the task list.
const searchQueryDoc = "Words (runs of letters and digits, at most 200 characters in all): a task matches when its title, " +
	"description and comments, taken together, contain every word. Case and accents are ignored (naïve = NAIVE); a word of " +
	"Chinese, Japanese or Korean is also found inside a longer run (東京 in 東京タワー). Nothing is syntax: quotes, *, -, :, " +
	"parentheses and AND/OR/NOT/NEAR are separators or plain words."

// QueryParam is the full-text filter of the task list: ?q=words.
type QueryParam struct {
	Q string `query:"q" maxLength:"200" doc:"Full text: only tasks whose title, description and comments, taken together, contain every word of it (case and accents ignored; no operators; see GET /api/v1/search). Empty: no filter. The list stays in id order."`
}

// Resolve refuses a query that holds characters but no word (422), as the
// search does; one over 200 characters is left to maxLength.
func (p *QueryParam) Resolve(huma.Context) []error {
	if p.Q == "" || utf8.RuneCountInString(p.Q) > taskwire.MaxSearchQueryLen {
		return nil
	}
	if _, err := taskwire.ParseSearchQuery(p.Q); err != nil {
		msg := taskwire.MsgSearchQueryNoWords
		if e, ok := taskwire.AsError(err); ok {
			msg = e.Message
		}
		return []error{&huma.ErrorDetail{Location: "query.q", Message: msg, Value: p.Q}}
	}
	return nil
}

type searchInput struct {
	Q     string `query:"q" required:"true" maxLength:"200" doc:"The words to find: every one must occur in the task's title, description or comments."`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"20" doc:"How many results at most (1–100)."`
}

type searchOutput struct {
	Body []taskwire.SearchResult
}

func (s *Server) searchTasks(ctx context.Context, in *searchInput) (*searchOutput, error) {
	res, err := s.svc.SearchTasks(ctx, userFrom(ctx), in.Q, in.Limit)
	if err != nil {
		return nil, err
	}
	return &searchOutput{Body: res}, nil
}

// searchRoutes registers the search.
func (s *Server) searchRoutes(api huma.API) {
	register(api, huma.Operation{
		OperationID: "search_tasks_api_v1_search_get", Method: http.MethodGet,
		Path: "/api/v1/search", Summary: "Search Tasks", Tags: []string{"tasks"},
		Description: "Full-text search over the tasks of every project the caller is a member of (other projects are never searched), " +
			"best match first: a word in the title counts most, then in the description, then in a comment. " +
			"Each result is the task, its project ({id, name}) and a snippet: plain text around the first words found in the description, " +
			"a comment (newest first) or the title, each word found between « and », with … where the text was cut. " +
			searchQueryDoc + " A query without a word is a 422.",
		Security: secured, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.searchTasks)
}
