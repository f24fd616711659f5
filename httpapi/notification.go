package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

type listNotificationsInput struct {
	PageParams
	Unread bool `query:"unread" doc:"Only unread notifications."`
}

type notificationsOutput struct {
	Link        string `header:"Link" doc:"The next page, when there is one."`
	UnreadCount int64  `header:"X-Unread-Count" doc:"How many of the caller's notifications are unread."`
	Body        []taskwire.Notification
}

func (s *Server) listNotifications(ctx context.Context, in *listNotificationsInput) (*notificationsOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	ns, unread, err := s.svc.Notifications(ctx, userFrom(ctx), taskwire.NotificationFilter{UnreadOnly: in.Unread}, page)
	if err != nil {
		return nil, err
	}
	ns, link := trim(requestFrom(ctx), in.Limit, ns, func(n taskwire.Notification) int64 { return n.ID })
	return &notificationsOutput{Link: link, UnreadCount: unread, Body: ns}, nil
}

type notificationIDParam struct {
	NotificationID int64 `path:"notification_id" doc:"Notification id."`
}

type notificationOutput struct {
	Body taskwire.Notification
}

func (s *Server) markRead(ctx context.Context, in *notificationIDParam) (*notificationOutput, error) {
	n, err := s.svc.MarkRead(ctx, userFrom(ctx), in.NotificationID)
	if err != nil {
		return nil, err
	}
	return &notificationOutput{Body: n}, nil
}

type updatedOutput struct {
	Body struct {
		Updated int64 `json:"updated" doc:"How many notifications were marked read."`
	}
}

func (s *Server) markAllRead(ctx context.Context, _ *struct{}) (*updatedOutput, error) {
	n, err := s.svc.MarkAllRead(ctx, userFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := &updatedOutput{}
	out.Body.Updated = n
	return out, nil
}

type settingsOutput struct {
	Body taskwire.NotificationSettings
}

func (s *Server) getSettings(ctx context.Context, _ *struct{}) (*settingsOutput, error) {
	set, err := s.svc.NotificationSettings(ctx, userFrom(ctx))
	if err != nil {
		return nil, err
	}
	return &settingsOutput{Body: set}, nil
}

type putSettingsInput struct {
	Body struct {
		Email map[taskwire.NotificationType]bool `json:"email" doc:"Per kind (task_assigned, member_added): whether to send email. Kinds left out keep their setting."`
		_     struct{}                           `additionalProperties:"true"`
	}
}

func (s *Server) putSettings(ctx context.Context, in *putSettingsInput) (*settingsOutput, error) {
	set, err := s.svc.UpdateNotificationSettings(ctx, userFrom(ctx), taskwire.NotificationSettings{Email: in.Body.Email})
	if err != nil {
		return nil, err
	}
	return &settingsOutput{Body: set}, nil
}

// notificationSocket serves /ws/notifications?token=<JWT>[&since=SEQ]: the
// caller's notifications, pushed as they commit. A bad token is refused at
// the handshake with 403.
func (s *Server) notificationSocket(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	user, expires, ok := s.socketUser(w, r)
	if !ok {
		return
	}
	last, err := s.svc.NotificationSeq(ctx, user.ID)
	if err != nil {
		writeError(w, fromDomain(loggerFrom(ctx, s.logger), err))
		return
	}
	since, ok := s.sinceParam(w, r, last)
	if !ok {
		return
	}
	s.upgrade(w, r, realtime.JoinRequest{Kind: realtime.UserStream, ID: user.ID, UserID: user.ID, Username: user.Username, Expires: expires, Since: &since})
}

// sinceParam reads ?since=: absent, it is last (the stream as it is now);
// present, a seq from 0 to last. It answers 422 itself otherwise.
func (s *Server) sinceParam(w http.ResponseWriter, r *http.Request, last int64) (int64, bool) {
	raw, ok := r.URL.Query()["since"]
	if !ok {
		return last, true
	}
	since, err := strconv.ParseInt(raw[0], 10, 64)
	switch {
	case err != nil || since < 0:
		writeError(w, invalid(issue{Loc: []any{"query", "since"}, Msg: "since must be a non-negative integer", Type: "value_error"}))
		return 0, false
	case since > last:
		writeError(w, invalid(issue{Loc: []any{"query", "since"}, Msg: "since is ahead of the newest seq (" + strconv.FormatInt(last, 10) + ")", Type: "value_error"}))
		return 0, false
	}
	return since, true
}
