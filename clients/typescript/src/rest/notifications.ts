import { intHeader, type HttpRequest } from '../http.js';
import type { Notification } from '../events.js';
import type { NotificationListQuery, NotificationSettings, PutSettingsInput, UpdatedResponse } from '../types.js';
import { list, type RestContext } from './context.js';
import { nextOf, paginate } from './paginate.js';

export interface NotificationList {
  /** Newest first. */
  notifications: Notification[];
  /** X-Unread-Count. */
  unread: number;
  /** X-Notification-Seq: open the notification socket with since set to it. */
  seq: number;
  next?: string;
}

const base = '/api/v1/notifications';

export function notificationsRestApi(ctx: RestContext) {
  return {
    /** `GET /api/v1/notifications[?unread=true]`, newest first. */
    async list(query?: NotificationListQuery): Promise<NotificationList> {
      const res = await ctx.http.request<Notification[] | null>({ method: 'GET', path: base, query: { ...query }, retry: true });
      return {
        notifications: list(res.body),
        unread: intHeader(res, 'X-Unread-Count'),
        seq: intHeader(res, 'X-Notification-Seq'),
        ...nextOf(res),
      };
    },

    /** Every notification (newest first), page by page. */
    iterate(opts?: { unread?: boolean; limit?: number }): AsyncGenerator<Notification, void, undefined> {
      const first: HttpRequest = { method: 'GET', path: base, query: { limit: 100, ...opts }, retry: true };
      return paginate(ctx, first, (res) => list(res.body as Notification[] | null));
    },

    /** `POST /api/v1/notifications/{id}/read`. */
    async markRead(notificationId: number): Promise<Notification> {
      return (await ctx.http.request<Notification>({ method: 'POST', path: `${base}/${notificationId}/read` })).body;
    },

    /** `POST /api/v1/notifications/read-all`: how many were marked. */
    async markAllRead(): Promise<UpdatedResponse> {
      return (await ctx.http.request<UpdatedResponse>({ method: 'POST', path: `${base}/read-all` })).body;
    },

    settings: {
      /** `GET /api/v1/users/me/notification-settings`. */
      async get(): Promise<NotificationSettings> {
        const res = await ctx.http.request<NotificationSettings>({
          method: 'GET',
          path: '/api/v1/users/me/notification-settings',
          retry: true,
        });
        return res.body;
      },
      /** `PUT /api/v1/users/me/notification-settings`: kinds left out keep their setting. */
      async put(input: PutSettingsInput): Promise<NotificationSettings> {
        const res = await ctx.http.request<NotificationSettings>({
          method: 'PUT',
          path: '/api/v1/users/me/notification-settings',
          json: input,
        });
        return res.body;
      },
    },
  };
}

export type NotificationsRestApi = ReturnType<typeof notificationsRestApi>;
