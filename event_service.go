package taskwire

import (
	"context"
)

// oldestRetained returns the oldest seq of p's log that is still readable
// (p.LastSeq+1 when none is). Events outside the retention window are
// treated as gone whether or not they have been pruned yet.
func (s *Service) oldestRetained(ctx context.Context, r Reader, p Project) (int64, error) {
	oldest := max(1, p.LastSeq-s.opts.RetentionCount+1)
	byAge, err := r.FirstEventSince(ctx, p.ID, s.now().Add(-s.opts.RetentionAge))
	if err != nil {
		return 0, err
	}
	if byAge == 0 {
		byAge = p.LastSeq + 1
	}
	return max(oldest, byAge), nil
}

// GoneError is returned when a reader asks for events no longer retained.
// Its kind is Gone.
type GoneError struct {
	OldestSeq int64
}

// MsgEventsGone is the detail of a GoneError.
const MsgEventsGone = "Events after the requested seq are no longer retained; resynchronize"

func (e *GoneError) Error() string { return MsgEventsGone }

// Events returns the project's events after since, oldest first, at most
// limit (0: all). Returns NotFound; Forbidden; Invalid for a negative
// since; a *GoneError (kind Gone) when since is older than the retained log.
//
// It also returns the seq of the project's newest event as of the same
// read, which the events reach when limit does not cut them short.
func (s *Service) Events(ctx context.Context, actor User, projectID, since int64, limit int) ([]Event, int64, error) {
	if since < 0 {
		return nil, 0, InvalidField("since", "since must be zero or positive")
	}
	events := []Event{}
	var seq int64
	err := s.viewProject(ctx, actor, projectID, func(r Reader, p Project) error {
		seq = p.LastSeq
		if since >= p.LastSeq {
			return nil
		}
		oldest, err := s.oldestRetained(ctx, r, p)
		if err != nil {
			return err
		}
		if since+1 < oldest {
			return &GoneError{OldestSeq: oldest}
		}
		events, err = r.Events(ctx, projectID, since, limit)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return events, seq, nil
}

// LastSeq returns the seq of the project's newest event. Returns NotFound.
func (s *Service) LastSeq(ctx context.Context, projectID int64) (int64, error) {
	p, err := s.store.Project(ctx, projectID)
	return p.LastSeq, err
}

// LastSeqs returns the newest seq of each existing project among ids, for
// the realtime layer's reconciler (a missing id is a deleted project).
func (s *Service) LastSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	return s.store.LastSeqs(ctx, ids)
}

// Replay returns up to limit events of a project after since, for the
// realtime layer: no caller check. Returns a *GoneError when since is older
// than the retained log. A deleted project's remaining events are returned
// as they are.
func (s *Service) Replay(ctx context.Context, projectID, since int64, limit int) ([]Event, error) {
	p, err := s.store.Project(ctx, projectID)
	switch {
	case err == nil:
		oldest, err := s.oldestRetained(ctx, s.store, p)
		if err != nil {
			return nil, err
		}
		if since+1 < oldest && since < p.LastSeq {
			return nil, &GoneError{OldestSeq: oldest}
		}
	case ErrorKind(err) != NotFound:
		return nil, err
	}
	return s.store.Events(ctx, projectID, since, limit)
}
