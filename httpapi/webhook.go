package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/taskwire/taskwire"
)

type WebhookIDParam struct {
	WebhookID int64 `path:"webhook_id" doc:"Webhook id."`
}

type createWebhookInput struct {
	ProjectIDParam
	Body struct {
		URL         string               `json:"url" minLength:"1" maxLength:"2048" doc:"Where events are posted: an http or https URL whose host resolves to public addresses."`
		Events      []taskwire.EventType `json:"events,omitempty" doc:"The event types to deliver; absent or null: every type."`
		Description string               `json:"description,omitempty" maxLength:"500"`
		_           struct{}             `additionalProperties:"true"`
	}
}

// createdWebhook is a webhook with its secret, shown this once.
type createdWebhook struct {
	taskwire.Webhook
	Secret string `json:"secret" doc:"whsec_ and the base64 of 32 random bytes: verify each delivery's webhook-signature with it. It is never shown again."`
}

type createdWebhookOutput struct {
	Body createdWebhook
}

func (s *Server) createWebhook(ctx context.Context, in *createWebhookInput) (*createdWebhookOutput, error) {
	w, err := s.svc.CreateWebhook(ctx, userFrom(ctx), in.ProjectID, taskwire.NewWebhook{
		URL: in.Body.URL, Events: in.Body.Events, Description: in.Body.Description,
	})
	if err != nil {
		return nil, err
	}
	return &createdWebhookOutput{Body: createdWebhook{Webhook: w, Secret: w.Secret}}, nil
}

type listWebhooksInput struct {
	ProjectIDParam
	PageParams
}

type webhooksOutput struct {
	Link string `header:"Link" doc:"The next page, when there is one."`
	Body []taskwire.Webhook
}

func (s *Server) listWebhooks(ctx context.Context, in *listWebhooksInput) (*webhooksOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	ws, err := s.svc.Webhooks(ctx, userFrom(ctx), in.ProjectID, page)
	if err != nil {
		return nil, err
	}
	ws, link := trim(requestFrom(ctx), in.Limit, ws, func(w taskwire.Webhook) int64 { return w.ID })
	return &webhooksOutput{Link: link, Body: ws}, nil
}

type updateWebhookInput struct {
	WebhookIDParam
	Body struct {
		URL         nonNull[string]               `json:"url,omitzero" maxLength:"2048"`
		Events      nonNull[[]taskwire.EventType] `json:"events,omitzero"`
		Active      nonNull[bool]                 `json:"active,omitzero" doc:"false stops deliveries; true resumes them and forgets past failures."`
		Description nonNull[string]               `json:"description,omitzero" maxLength:"500"`
		_           struct{}                      `additionalProperties:"true"`
	}
}

type webhookOutput struct {
	Body taskwire.Webhook
}

func (s *Server) updateWebhook(ctx context.Context, in *updateWebhookInput) (*webhookOutput, error) {
	b := in.Body
	const null = "Input must not be null"
	for _, err := range []error{b.URL.check("url", null, "string_type"), b.Events.check("events", null, "list_type"),
		b.Active.check("active", null, "bool_type"), b.Description.check("description", null, "string_type")} {
		if err != nil {
			return nil, err
		}
	}
	patch := taskwire.WebhookPatch{URL: b.URL.ptr(), Active: b.Active.ptr(), Description: b.Description.ptr()}
	if b.Events.Set {
		patch.Events = b.Events.Value
	}
	w, err := s.svc.UpdateWebhook(ctx, userFrom(ctx), in.WebhookID, patch)
	if err != nil {
		return nil, err
	}
	return &webhookOutput{Body: w}, nil
}

func (s *Server) deleteWebhook(ctx context.Context, in *WebhookIDParam) (*struct{}, error) {
	return nil, s.svc.DeleteWebhook(ctx, userFrom(ctx), in.WebhookID)
}

type secretOutput struct {
	Body struct {
		Secret string `json:"secret" doc:"The new secret; the previous one also signs deliveries for 24 hours."`
	}
}

func (s *Server) rotateWebhookSecret(ctx context.Context, in *WebhookIDParam) (*secretOutput, error) {
	secret, err := s.svc.RotateWebhookSecret(ctx, userFrom(ctx), in.WebhookID)
	if err != nil {
		return nil, err
	}
	out := &secretOutput{}
	out.Body.Secret = secret
	return out, nil
}

type listDeliveriesInput struct {
	WebhookIDParam
	PageParams
}

type deliveriesOutput struct {
	Link string `header:"Link" doc:"The next page, when there is one."`
	Body []taskwire.WebhookDelivery
}

func (s *Server) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*deliveriesOutput, error) {
	page, err := in.page()
	if err != nil {
		return nil, err
	}
	ds, err := s.svc.WebhookDeliveries(ctx, userFrom(ctx), in.WebhookID, page)
	if err != nil {
		return nil, err
	}
	ds, link := trim(requestFrom(ctx), in.Limit, ds, func(d taskwire.WebhookDelivery) int64 { return d.ID })
	return &deliveriesOutput{Link: link, Body: ds}, nil
}

type redeliverInput struct {
	WebhookIDParam
	DeliveryID int64 `path:"delivery_id" doc:"Delivery id."`
}

func (s *Server) redeliver(ctx context.Context, in *redeliverInput) (*struct{}, error) {
	return nil, s.svc.Redeliver(ctx, userFrom(ctx), in.WebhookID, in.DeliveryID)
}

// webhookRoutes registers the webhook routes.
func (s *Server) webhookRoutes(api huma.API) {
	errs := []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity}
	tags := []string{"webhooks"}
	owner := " Only the project's owner manages its webhooks; other members get 403."
	register(api, huma.Operation{
		OperationID: "create_webhook_api_v1_projects__project_id__webhooks_post", Method: http.MethodPost,
		Path: "/api/v1/projects/{project_id}/webhooks", Summary: "Create Webhook", Tags: tags,
		Description: "Post the project's events to a URL, signed per Standard Webhooks 1.0. The answer holds the secret, " +
			"shown only here. A URL that is not http(s) or whose host resolves to a loopback, private or otherwise " +
			"non-public address is refused (422), as is an unknown event type." + owner,
		Security: secured, DefaultStatus: http.StatusCreated, Errors: errs,
	}, s.createWebhook)
	register(api, huma.Operation{
		OperationID: "list_webhooks_api_v1_projects__project_id__webhooks_get", Method: http.MethodGet,
		Path: "/api/v1/projects/{project_id}/webhooks", Summary: "List Webhooks", Tags: tags,
		Description: "The project's webhooks, oldest first, without their secrets. " + pagingDoc + owner,
		Security:    secured, Errors: errs,
	}, s.listWebhooks)
	register(api, huma.Operation{
		OperationID: "update_webhook_api_v1_webhooks__webhook_id__patch", Method: http.MethodPatch,
		Path: "/api/v1/webhooks/{webhook_id}", Summary: "Update Webhook", Tags: tags,
		Description: "Change the fields sent. A new URL is checked as on creation." + owner,
		Security:    secured, Errors: errs,
	}, s.updateWebhook)
	register(api, huma.Operation{
		OperationID: "delete_webhook_api_v1_webhooks__webhook_id__delete", Method: http.MethodDelete,
		Path: "/api/v1/webhooks/{webhook_id}", Summary: "Delete Webhook", Tags: tags,
		Description: "Delete a webhook and its delivery log; deliveries not yet made are not made." + owner,
		Security:    secured, DefaultStatus: http.StatusNoContent, Errors: errs,
	}, s.deleteWebhook)
	register(api, huma.Operation{
		OperationID: "rotate_webhook_secret_api_v1_webhooks__webhook_id__rotate_secret_post", Method: http.MethodPost,
		Path: "/api/v1/webhooks/{webhook_id}/rotate-secret", Summary: "Rotate Webhook Secret", Tags: tags,
		Description: "Give the webhook a new secret. For 24 hours deliveries carry two signatures, one per secret." + owner,
		Security:    secured, Errors: errs,
	}, s.rotateWebhookSecret)
	register(api, huma.Operation{
		OperationID: "list_webhook_deliveries_api_v1_webhooks__webhook_id__deliveries_get", Method: http.MethodGet,
		Path: "/api/v1/webhooks/{webhook_id}/deliveries", Summary: "List Webhook Deliveries", Tags: tags,
		Description: "The webhook's delivery attempts, newest first. " + pagingDoc + owner,
		Security:    secured, Errors: errs,
	}, s.listDeliveries)
	register(api, huma.Operation{
		OperationID: "redeliver_api_v1_webhooks__webhook_id__deliveries__delivery_id__redeliver_post", Method: http.MethodPost,
		Path: "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", Summary: "Redeliver", Tags: tags,
		Description: "Deliver the event of this delivery again, with the same webhook-id, as a new series of attempts. " +
			"410 when the event has left the project's log." + owner,
		Security: secured, DefaultStatus: http.StatusAccepted, Errors: append(errs, http.StatusGone),
	}, s.redeliver)
}
