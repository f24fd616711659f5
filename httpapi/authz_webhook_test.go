package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// msgNotWebhookManager is what a member who is not the owner hears on the
// webhook routes.
const msgNotWebhookManager = "Only the project owner can manage its webhooks"

// webhookRoute: routes on the fixture's webhook: the owner may act, a
// member gets 403, others are not members, and an unknown webhook is 404
// "Webhook not found".
func webhookRoute(method, path string, success authzOutcome, req func(*testing.T, *authzFixture, identity) (string, any)) authzRoute {
	r := ownerRoute(method, path, msgNotWebhookManager, success, req)
	m := deny(http.StatusNotFound, "Webhook not found")
	r.missing = &m
	return r
}

// webhookID returns the fixture's webhook, creating it on first use.
func (fx *authzFixture) webhookID(t *testing.T) int64 {
	t.Helper()
	if fx.webhook == 0 {
		fx.webhook = fx.newWebhook(t)
	}
	return fx.webhook
}

// newWebhook adds a webhook to the fixture's project, posting to the
// world's receiver.
func (fx *authzFixture) newWebhook(t *testing.T) int64 {
	t.Helper()
	return createdID(t, fx.e.do("POST", fx.projectPath("/webhooks"), fx.w.owner.Token, map[string]string{"url": fx.w.receiver.URL}))
}

// onWebhook builds a path on the fixture's webhook; fresh gives each case
// a webhook of its own (for deletes).
func onWebhook(suffix string, fresh bool, body any) func(*testing.T, *authzFixture, identity) (string, any) {
	return func(t *testing.T, fx *authzFixture, who identity) (string, any) {
		var id int64
		switch {
		case who == idMissing:
			id = missingID
		case fresh:
			id = fx.newWebhook(t)
		default:
			id = fx.webhookID(t)
		}
		return "/api/v1/webhooks/" + itoa(id) + suffix, body
	}
}

// onDelivery builds the redeliver path of a delivery of the fixture's
// webhook, waiting for one to be logged.
func onDelivery(t *testing.T, fx *authzFixture, who identity) (string, any) {
	id := fx.webhookID(t)
	ds := fx.e.deliveries(fx.w.owner.Token, id)
	if len(ds) == 0 {
		fx.newTask(t)
		ds = fx.e.waitDeliveries(fx.w.owner.Token, id, 1)
	}
	if who == idMissing {
		id = missingID
	}
	return "/api/v1/webhooks/" + itoa(id) + "/deliveries/" + itoa(ds[0].ID) + "/redeliver", nil
}

// webhookWithSecret: a new secret is in the answer.
func webhookWithSecret(t *testing.T, _ *authzFixture, _ identity, r response) {
	var v struct{ Secret string }
	r.JSON(t, &v)
	if !strings.HasPrefix(v.Secret, "whsec_") {
		t.Errorf("no secret in %s", r.Body)
	}
}
