import { intHeader, type HttpRequest } from '../http.js';
import type { ProjectEvent } from '../events.js';
import { list, type RestContext } from './context.js';
import { nextOf, paginate } from './paginate.js';

export interface EventList {
  /** Oldest first. Types this client does not know are included as they came. */
  events: ProjectEvent[];
  /** X-Event-Seq: the project's newest seq as of this read. */
  seq: number;
  next?: string;
}

export interface EventQuery {
  /** Events with a seq greater than this (default 0: from the start). */
  since?: number;
  /** Page size (1-500); without it every event after `since` comes in one answer. */
  limit?: number;
}

export function eventsApi(ctx: RestContext) {
  const path = (projectId: number) => `/api/v1/projects/${projectId}/events`;
  return {
    /**
     * `GET /api/v1/projects/{id}/events?since=`: the log after `since`.
     * A `since` older than the retained log is a TaskwireError 410 with `oldestSeq`.
     */
    async list(projectId: number, query?: EventQuery): Promise<EventList> {
      const res = await ctx.http.request<ProjectEvent[] | null>({
        method: 'GET',
        path: path(projectId),
        query: { since: query?.since ?? 0, limit: query?.limit },
        retry: true,
      });
      return { events: list(res.body), seq: intHeader(res, 'X-Event-Seq'), ...nextOf(res) };
    },

    /** Every event after `since`, oldest first, page by page. */
    iterate(projectId: number, opts?: EventQuery): AsyncGenerator<ProjectEvent, void, undefined> {
      const first: HttpRequest = {
        method: 'GET',
        path: path(projectId),
        query: { since: opts?.since ?? 0, limit: opts?.limit ?? 500 },
        retry: true,
      };
      return paginate(ctx, first, (res) => list(res.body as ProjectEvent[] | null));
    },
  };
}

export type EventsApi = ReturnType<typeof eventsApi>;
