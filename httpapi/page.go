package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"

	"github.com/taskwire/taskwire"
)

// maxBodyBytes bounds every request body (413 beyond).
const maxBodyBytes = 1 << 20

// PageParams are the pagination query parameters shared by list routes.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size (1–500). Without it the whole list is returned."`
	Cursor string `query:"cursor" maxLength:"64" doc:"Opaque cursor from a previous page's Link header."`
}

// page converts the parameters. It asks for one item more than the page
// so the handler knows whether a next page exists.
func (p PageParams) page() (taskwire.Page, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return taskwire.Page{}, err
	}
	pg := taskwire.Page{After: after}
	if p.Limit > 0 {
		pg.Limit = p.Limit + 1
	}
	return pg, nil
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	bad := invalid(issue{Loc: []any{"query", "cursor"}, Msg: "Invalid cursor", Type: "value_error"})
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'c' {
		return 0, bad
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || n < 0 {
		return 0, bad
	}
	return n, nil
}

// trim cuts a fetched list to the requested limit and, if more remained,
// returns the Link header for the next page.
func trim[T any](r *http.Request, limit int, items []T, id func(T) int64) ([]T, string) {
	if limit <= 0 || len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, nextLink(r, "cursor", encodeCursor(id(items[len(items)-1])))
}

// nextLink renders `<path?query>; rel="next"` with one parameter replaced.
func nextLink(r *http.Request, param, value string) string {
	if r == nil {
		return ""
	}
	u := url.URL{Path: r.URL.Path}
	q := r.URL.Query()
	q.Set(param, value)
	u.RawQuery = q.Encode()
	return "<" + u.String() + `>; rel="next"`
}
