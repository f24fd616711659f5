package httpapi

import (
	"context"
	"github.com/danielgtaylor/huma/v2"
	"net/http"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

type listNotificationsInput struct {
	PageParams
	Unread bool `query:"unread" doc:"Only unread notifications."`
}

type notificationsOutput struct {
	Link            string `header:"Link" doc:"The next page, when there is one."`
	UnreadCount     int64  `header:"X-Unread-Count" doc:"How many of the caller's notifications are unread."`
	NotificationSeq int64  `header:"X-Notification-Seq" doc:"The caller's newest notification seq as of the same read as the body; open /ws/notifications with since set to it."`
	Body            []taskwire.Notification
}

func (s *Server) listNotifications(ctx context.Context, in *listNotificationsInput) (*notificationsOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	inbox, err := s.svc.Notifications(ctx, userFrom(ctx), taskwire.NotificationFilter{UnreadOnly: in.Unread}, page)
	if err != nil {
		return nil, err
	}
	ns, link := trim(requestFrom(ctx), in.Limit, inbox.Notifications, func(n taskwire.Notification) int64 { return n.ID })
	return &notificationsOutput{Link: link, UnreadCount: inbox.Unread, NotificationSeq: inbox.Seq, Body: ns}, nil
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
		Email map[taskwire.NotificationType]bool `json:"email" doc:"Per kind (task_assigned, member_added, mentioned, task_due_soon): whether to send email. Kinds left out keep their setting."`
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

// notificationSocket serves /ws/notifications?token=<JWT or API token>[&since=SEQ]: the
// caller's notifications, pushed as they commit, in protocol 2. A bad token
// is refused at the handshake with 403.
func (s *Server) notificationSocket(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	who, ok := s.socketUser(w, r)
	if !ok {
		return
	}
	user := who.user
	last, err := s.svc.NotificationSeq(ctx, user.ID)
	if err != nil {
		writeError(w, fromDomain(loggerFrom(ctx, s.logger), err))
		return
	}
	req := realtime.JoinRequest{Kind: realtime.UserStream, ID: user.ID, UserID: user.ID, Username: user.Username,
		Expires: who.expires, TokenID: who.tokenID}
	if !s.streamParams(w, r, last, true, &req) {
		return
	}
	s.upgrade(w, r, req)
}

// notificationRoutes registers the inbox and email settings.
func (s *Server) notificationRoutes(api huma.API) {
	register(api, huma.Operation{
		OperationID: "list_notifications_api_v1_notifications_get", Method: http.MethodGet, Path: "/api/v1/notifications",
		Summary: "Inbox", Tags: []string{"notifications"}, Security: secured,
		Description: "The caller's notifications, newest first; `X-Unread-Count` counts the unread ones. " + pagingDoc,
		Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.listNotifications)
	register(api, huma.Operation{
		OperationID: "mark_notification_read_api_v1_notifications__notification_id__read_post", Method: http.MethodPost,
		Path: "/api/v1/notifications/{notification_id}/read", Summary: "Mark read", Tags: []string{"notifications"}, Security: secured,
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, s.markRead)
	register(api, huma.Operation{
		OperationID: "mark_all_read_api_v1_notifications_read_all_post", Method: http.MethodPost,
		Path: "/api/v1/notifications/read-all", Summary: "Mark all read", Tags: []string{"notifications"}, Security: secured,
		Errors: []int{http.StatusUnauthorized},
	}, s.markAllRead)
	register(api, huma.Operation{
		OperationID: "get_notification_settings_api_v1_users_me_notification_settings_get", Method: http.MethodGet,
		Path: "/api/v1/users/me/notification-settings", Summary: "Email settings", Tags: []string{"notifications"}, Security: secured,
		Description: "Whether each kind of email (task_assigned, member_added, mentioned, task_due_soon) is sent to the caller.",
		Errors:      []int{http.StatusUnauthorized},
	}, s.getSettings)
	register(api, huma.Operation{
		OperationID: "put_notification_settings_api_v1_users_me_notification_settings_put", Method: http.MethodPut,
		Path: "/api/v1/users/me/notification-settings", Summary: "Change email settings", Tags: []string{"notifications"}, Security: secured,
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.putSettings)
}
