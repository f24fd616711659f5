package httpapi

import (
	"context"
	"github.com/danielgtaylor/huma/v2"
	"net/http"
	"strconv"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

type listEventsInput struct {
	ProjectIDParam
	Since int64 `query:"since" minimum:"0" doc:"Return events with seq greater than this (0: from the start)."`
	Limit int   `query:"limit" minimum:"1" maximum:"500" doc:"Page size (1–500). Without it every event after since is returned."`
}

type eventsOutput struct {
	Link     string `header:"Link" doc:"The next page, when there is one."`
	EventSeq int64  `header:"X-Event-Seq" doc:"The project's newest event seq as of the same read as the body."`
	Body     []taskwire.Event
}

func (s *Server) listEvents(ctx context.Context, in *listEventsInput) (*eventsOutput, error) {
	n := 0
	if in.Limit > 0 {
		n = in.Limit + 1
	}
	events, seq, err := s.svc.Events(ctx, userFrom(ctx), in.ProjectID, in.Since, n)
	if err != nil {
		return nil, err
	}
	out := &eventsOutput{EventSeq: seq, Body: events}
	if in.Limit > 0 && len(events) > in.Limit {
		out.Body = events[:in.Limit]
		last := out.Body[len(out.Body)-1].Seq
		out.Link = nextLink(requestFrom(ctx), "since", strconv.FormatInt(last, 10))
	}
	return out, nil
}

type presenceOutput struct {
	Body []realtime.PresenceEntry
}

func (s *Server) presence(ctx context.Context, in *ProjectIDParam) (*presenceOutput, error) {
	if _, err := s.svc.CheckMember(ctx, userFrom(ctx), in.ProjectID); err != nil {
		return nil, err
	}
	entries, err := s.hub.Presence(ctx, in.ProjectID)
	if err != nil {
		return nil, err
	}
	return &presenceOutput{Body: entries}, nil
}

// eventRoutes registers the event log and presence.
func (s *Server) eventRoutes(api huma.API) {
	register(api, huma.Operation{
		OperationID: "list_events_api_v1_projects__project_id__events_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/events", Summary: "Project event log", Tags: []string{"events"},
		Description: "The project's events after `since`, oldest first. Answers 410 with `oldest_seq` when `since` is older than the retained log. " + pagingDoc,
		Security:    secured,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity},
	}, s.listEvents)

	register(api, huma.Operation{
		OperationID: "get_presence_api_v1_projects__project_id__presence_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/presence", Summary: "Who is connected", Tags: []string{"realtime"},
		Description: "Members with an open socket in the project's room now, with how many sockets each. " +
			"The room also receives presence_joined / presence_left when a member's first socket opens or last one closes.",
		Security: secured,
		Errors:   []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.presence)
}
