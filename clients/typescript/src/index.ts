/**
 * @taskwire/client: the official TypeScript client of Taskwire.
 *
 *   const client = createClient({ baseUrl, WebSocket });
 *   await client.auth.login({ username, password });
 *   const board = client.project(1).live();
 *   board.on('change', (b) => render(b));
 */
export { createClient, defaultLive } from './client.js';
export type {
  ClientOptions,
  LiveBoardOptions,
  NotificationSubscribeOptions,
  ProjectHandle,
  ProjectSubscribeOptions,
  SubscribeOptions,
  TaskwireClient,
} from './client.js';

export {
  TaskwireError,
  TaskwireNetworkError,
  TaskwireProtocolError,
  isConflict,
  isForbidden,
  isGone,
  isNetworkError,
  isNotFound,
  isRateLimited,
  isTaskwireError,
} from './errors.js';
export type { FieldError } from './errors.js';

export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export type { FetchLike, ResponseLike, RetryOptions } from './http.js';
export type { GetToken } from './tokens.js';

export type { CreateOptions } from './rest/context.js';
export type { LoginOptions } from './rest/auth.js';
export type { MemberRef, ProjectDetails, ProjectPage } from './rest/projects.js';
export { etagOf, ifMatchValue } from './rest/tasks.js';
export type { TaskDetails, TaskFilter, TaskList, WriteOptions } from './rest/tasks.js';
export type { CommentList } from './rest/comments.js';
export type { EventList, EventQuery } from './rest/events.js';
export type { SearchQuery, SearchResult } from './rest/search.js';
export type { NotificationList } from './rest/notifications.js';

export { Subscription, SubscriptionError } from './live/subscription.js';
export type {
  BaseSubscriptionEvents,
  LiveOptions,
  NotificationSubscription,
  NotificationSubscriptionEvents,
  ProjectEventHandlers,
  ProjectSubscription,
  ProjectSubscriptionEvents,
  StateInfo,
  SubscriptionState,
} from './live/subscription.js';
export { LiveBoard } from './live/board.js';
export type { Board, BoardChange, BoardMember, LiveBoardEvents } from './live/board.js';
export type { Lifecycle } from './live/lifecycle.js';
export type { WebSocketConstructor, WebSocketLike } from './live/socket.js';
export type { BackoffOptions } from './live/backoff.js';

export * from './events.js';
export type * from './types.js';
export type { components, operations, paths } from './openapi.js';
