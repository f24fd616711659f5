import type { HttpRequest } from '../http.js';
import type { CreatedWebhook, CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery } from '../types.js';
import { list, type RestContext } from './context.js';
import { paginate } from './paginate.js';

/**
 * Webhooks: a project's owner has its events posted, signed (Standard
 * Webhooks 1.0), to URLs of their own. Every route is the owner's; others
 * get 403 (`isForbidden(err)`).
 */
export function webhooksApi(ctx: RestContext) {
  const hook = (id: number) => `/api/v1/webhooks/${id}`;
  return {
    /**
     * `POST /api/v1/projects/{id}/webhooks`: 201 with the `secret`, which
     * is never shown again. Not retried: a retry could create a second
     * webhook.
     */
    async create(projectId: number, input: CreateWebhookInput): Promise<CreatedWebhook> {
      const res = await ctx.http.request<CreatedWebhook>({ method: 'POST', path: `/api/v1/projects/${projectId}/webhooks`, json: input });
      return res.body;
    },

    /** `GET /api/v1/projects/{id}/webhooks`: oldest first, without secrets. */
    async list(projectId: number): Promise<Webhook[]> {
      const res = await ctx.http.request<Webhook[] | null>({ method: 'GET', path: `/api/v1/projects/${projectId}/webhooks`, retry: true });
      return list(res.body);
    },

    /** `PATCH /api/v1/webhooks/{id}`: changes the fields given; `active: true` resumes a disabled webhook. */
    async update(webhookId: number, input: UpdateWebhookInput): Promise<Webhook> {
      const res = await ctx.http.request<Webhook>({ method: 'PATCH', path: hook(webhookId), json: input });
      return res.body;
    },

    /** `DELETE /api/v1/webhooks/{id}`: 204. */
    async delete(webhookId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: hook(webhookId) });
    },

    /** `POST /api/v1/webhooks/{id}/rotate-secret`: the new secret; the old one also signs for 24 h. */
    async rotateSecret(webhookId: number): Promise<string> {
      const res = await ctx.http.request<{ secret: string }>({ method: 'POST', path: `${hook(webhookId)}/rotate-secret` });
      return res.body.secret;
    },

    /** Every delivery attempt of a webhook, newest first, page by page. */
    deliveries(webhookId: number, opts?: { limit?: number }): AsyncGenerator<WebhookDelivery, void, undefined> {
      const first: HttpRequest = { method: 'GET', path: `${hook(webhookId)}/deliveries`, query: { limit: 100, ...opts }, retry: true };
      return paginate(ctx, first, (res) => list(res.body as WebhookDelivery[] | null));
    },

    /** `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver`: 202; sent again with the same webhook-id. */
    async redeliver(webhookId: number, deliveryId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'POST', path: `${hook(webhookId)}/deliveries/${deliveryId}/redeliver` });
    },
  };
}

export type WebhooksApi = ReturnType<typeof webhooksApi>;
