import type { EventsApi } from '../rest/events.js';
import type { NotificationsRestApi } from '../rest/notifications.js';
import type { ProjectsApi } from '../rest/projects.js';
import { fromLog, type Incoming } from './messages.js';
import type { StreamSource } from './subscription.js';

/** Pages read per refill before giving up and letting the socket replay instead. */
const maxRefillPages = 20;

/** `/ws/projects/{id}?v=2`: gaps are refilled from `GET .../events?since=`. */
export function projectSource(projectId: number, projects: ProjectsApi, events: EventsApi): StreamSource {
  return {
    stream: 'project',
    path: `/ws/projects/${projectId}`,
    query: { v: '2' },
    probe: async () => (await projects.get(projectId)).seq,
    refill: async (after: number, upTo: number): Promise<Incoming[]> => {
      const out: Incoming[] = [];
      let since = after;
      for (let page = 0; page < maxRefillPages; page++) {
        const res = await events.list(projectId, { since, limit: 500 });
        out.push(...fromLog(res.events));
        const last = res.events.at(-1)?.seq;
        if (last === undefined || last >= upTo || res.next === undefined) break;
        since = last;
      }
      return out;
    },
  };
}

/**
 * `/ws/notifications` (always protocol 2). There is no `since` read over
 * REST for notifications, so a gap is repaired by reconnecting with since.
 */
export function notificationSource(notifications: NotificationsRestApi): StreamSource {
  return {
    stream: 'notifications',
    path: '/ws/notifications',
    query: {},
    probe: async () => (await notifications.list({ limit: 1 })).seq,
  };
}
