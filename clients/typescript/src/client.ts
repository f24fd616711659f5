import { systemClock, type Clock } from './clock.js';
import { Http, defaultRetry, randomKey, type FetchLike, type RetryOptions } from './http.js';
import { authApi } from './rest/auth.js';
import { apiTokensApi } from './rest/api-tokens.js';
import { commentsApi } from './rest/comments.js';
import { webhooksApi } from './rest/webhooks.js';
import type { RestContext } from './rest/context.js';
import { eventsApi } from './rest/events.js';
import { invitationsApi } from './rest/invitations.js';
import { notificationsRestApi } from './rest/notifications.js';
import { opsApi } from './rest/ops.js';
import { projectsApi } from './rest/projects.js';
import { searchApi } from './rest/search.js';
import { tasksApi } from './rest/tasks.js';
import { usersApi } from './rest/users.js';
import { defaultBackoff } from './live/backoff.js';
import { LiveBoard } from './live/board.js';
import { browserLifecycle, type Lifecycle } from './live/lifecycle.js';
import { notificationSource, projectSource } from './live/sources.js';
import type { WebSocketConstructor } from './live/socket.js';
import {
  Subscription,
  type LiveOptions,
  type NotificationSubscription,
  type NotificationSubscriptionEvents,
  type ProjectSubscription,
  type ProjectSubscriptionEvents,
  type SubscriptionDeps,
} from './live/subscription.js';
import { TokenStore, type GetToken } from './tokens.js';

export interface ClientOptions {
  /** The server's root, e.g. `http://127.0.0.1:8080` (REST under /api/v1, sockets under /ws). */
  baseUrl: string;
  /** A token to start with (e.g. one kept from an earlier login). */
  token?: string | undefined;
  /** Asked for a token when none is held and again after a 401 or a socket closed with 4401. */
  getToken?: GetToken | undefined;
  /** Defaults to the platform's fetch. */
  fetch?: FetchLike | undefined;
  /** Defaults to the platform's WebSocket (Node 20 has none: pass the `ws` package's). */
  WebSocket?: WebSocketConstructor | undefined;
  /** Timers for retries, backoff and watchdogs (tests pass a fake clock). */
  clock?: Clock | undefined;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: (() => number) | undefined;
  /** REST retries of reads and creates after a network error or a 5xx. */
  retry?: Partial<RetryOptions> | undefined;
  /** Connection policy of live streams. */
  live?: Partial<LiveOptions> | undefined;
  /** Wake-up signals (online, page visible); default: the browser's where they exist; null: none. */
  lifecycle?: Lifecycle | null | undefined;
  /** Makes Idempotency-Keys (default crypto.randomUUID). */
  idempotencyKey?: (() => string) | undefined;
}

export const defaultLive: LiveOptions = {
  ...defaultBackoff,
  stableMs: 10_000,
  heartbeatMs: 20_000,
  connectTimeoutMs: 15_000,
  maxAttempts: undefined,
};

export interface SubscribeOptions {
  /** The seq of the last event already processed (e.g. X-Event-Seq of a REST read, or a stored lastSeq). */
  cursor?: number | undefined;
}

export interface ProjectSubscribeOptions extends SubscribeOptions {
  /** Called for every log event, first among the handlers. */
  onEvent?: ProjectSubscriptionEvents['event'];
  /** resync_required: reload the application's state (see `on('resync')`). */
  onResync?: ProjectSubscriptionEvents['resync'];
}

export interface NotificationSubscribeOptions extends SubscribeOptions {
  onNotification?: NotificationSubscriptionEvents['notification'];
}

export interface LiveBoardOptions {
  /** Snapshot reads with disagreeing seqs are retried this often before being reconciled from the log. */
  snapshotAttempts?: number;
}

/** Builds a client. REST methods are grouped (`auth`, `users`, `apiTokens`, `projects`, `tasks`, `comments`, `invitations`, `webhooks`, `events`, `notifications`, `ops`). */
export function createClient(options: ClientOptions) {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const tokens = new TokenStore(options.token, options.getToken);
  // Bound to globalThis: a browser's fetch called with another `this` throws
  // "Illegal invocation".
  const platformFetch = (globalThis as { fetch?: FetchLike }).fetch;
  const fetchImpl = options.fetch ?? platformFetch?.bind(globalThis);
  if (!fetchImpl) throw new Error('no fetch on this platform: pass options.fetch');
  const http = new Http({
    baseUrl: options.baseUrl,
    fetch: fetchImpl,
    tokens,
    clock,
    random,
    retry: { ...defaultRetry, ...options.retry },
  });
  const ctx: RestContext = { http, tokens, newKey: options.idempotencyKey ?? randomKey };
  const projects = projectsApi(ctx);
  const tasks = tasksApi(ctx);
  const events = eventsApi(ctx);
  const notificationsRest = notificationsRestApi(ctx);

  const live: LiveOptions = { ...defaultLive, ...options.live };
  const lifecycle = options.lifecycle === null ? undefined : (options.lifecycle ?? browserLifecycle());
  const deps = (): SubscriptionDeps => {
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocket) throw new Error('no WebSocket on this platform: pass options.WebSocket (e.g. the ws package)');
    return { baseUrl: http.baseUrl, tokens, WebSocket, clock, random, live, lifecycle };
  };

  const subscribeProject = (projectId: number, opts: ProjectSubscribeOptions = {}): ProjectSubscription => {
    const sub = new Subscription<ProjectSubscriptionEvents>(deps(), projectSource(projectId, projects, events), opts.cursor);
    if (opts.onEvent) sub.on('event', opts.onEvent);
    if (opts.onResync) sub.on('resync', opts.onResync);
    return sub;
  };

  return {
    auth: authApi(ctx),
    users: usersApi(ctx),
    /** The caller's API tokens: `create`, `list`, `revoke`. */
    apiTokens: apiTokensApi(ctx),
    projects,
    tasks,
    comments: commentsApi(ctx),
    /** Invitations by email: `create`, `list`, `revoke` (the owner) and `accept` (the invitee). */
    invitations: invitationsApi(ctx),
    webhooks: webhooksApi(ctx),
    events,
    ops: opsApi(ctx),
    /** `search(q, {limit})`: full-text search over the caller's tasks, best first. */
    search: searchApi(ctx).search,
    notifications: {
      ...notificationsRest,
      /** `/ws/notifications`: the caller's notifications, exactly once, in seq order. */
      subscribe(opts: NotificationSubscribeOptions = {}): NotificationSubscription {
        const sub = new Subscription<NotificationSubscriptionEvents>(deps(), notificationSource(notificationsRest), opts.cursor);
        if (opts.onNotification) sub.on('notification', opts.onNotification);
        return sub;
      },
    },

    /** The live side of one project. */
    project(projectId: number) {
      return {
        id: projectId,
        /** `/ws/projects/{id}?v=2[&since=cursor]`: every event exactly once, in seq order. */
        subscribe: (opts?: ProjectSubscribeOptions) => subscribeProject(projectId, opts),
        /** A board kept consistent with the server: snapshot, then events. */
        live: (opts: LiveBoardOptions = {}) =>
          new LiveBoard({
            projectId,
            projects,
            tasks,
            events,
            subscribe: (cursor) => subscribeProject(projectId, { cursor }),
            ...(opts.snapshotAttempts === undefined ? {} : { snapshotAttempts: opts.snapshotAttempts }),
          }),
      };
    },

    /** Replaces the held token (undefined: signed out). */
    setToken(token: string | undefined): void {
      tokens.set(token);
    },
    /** The held token, if any. */
    get token(): string | undefined {
      return tokens.peek();
    },
  };
}

export type TaskwireClient = ReturnType<typeof createClient>;
export type ProjectHandle = ReturnType<TaskwireClient['project']>;
