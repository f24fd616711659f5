package httpapi

import (
	"context"
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
