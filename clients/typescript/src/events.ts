/**
 * The socket messages, written by hand from asyncapi.yaml (the generated
 * OpenAPI types leave an event's `data` untyped). Each log event has the
 * envelope `{event, data, seq, project_id, ts, actor_id}`.
 */
import type { Comment, Task } from './types.js';

export interface Envelope<E extends string, D> {
  event: E;
  data: D;
  /** Per-project sequence: 1, 2, 3, ... with no gap. */
  seq: number;
  project_id: number;
  /** RFC 3339. */
  ts: string;
  /** The user whose request caused the event. */
  actor_id: number;
}

export type TaskCreatedEvent = Envelope<'task_created', Task>;
export type StatusChangedEvent = Envelope<'status_changed', Task>;
export type TaskUpdatedEvent = Envelope<'task_updated', Task>;
export type TaskDeletedEvent = Envelope<'task_deleted', { id: number; project_id: number }>;
export type MemberAddedEvent = Envelope<
  'member_added',
  { project_id: number; user_id: number; user: { id: number; username: string } }
>;
export type MemberRemovedEvent = Envelope<'member_removed', { project_id: number; user_id: number }>;
export type ProjectUpdatedEvent = Envelope<
  'project_updated',
  { id: number; name: string; description: string | null; owner_id: number }
>;
export type ProjectDeletedEvent = Envelope<'project_deleted', { id: number }>;
export type CommentAddedEvent = Envelope<'comment_added', Comment>;
/** The comment as it is after the edit. */
export type CommentUpdatedEvent = Envelope<'comment_updated', Comment>;
/** Only for a comment deleted on its own: a deleted task's comments go without it. */
export type CommentDeletedEvent = Envelope<'comment_deleted', { id: number; task_id: number; project_id: number }>;

/** Every event type of a project's log. */
export type ProjectEvent =
  | TaskCreatedEvent
  | StatusChangedEvent
  | TaskUpdatedEvent
  | TaskDeletedEvent
  | MemberAddedEvent
  | MemberRemovedEvent
  | ProjectUpdatedEvent
  | ProjectDeletedEvent
  | CommentAddedEvent
  | CommentUpdatedEvent
  | CommentDeletedEvent;

export type ProjectEventType = ProjectEvent['event'];
export type ProjectEventOf<T extends ProjectEventType> = Extract<ProjectEvent, { event: T }>;

export const projectEventTypes: readonly ProjectEventType[] = [
  'task_created',
  'status_changed',
  'task_updated',
  'task_deleted',
  'member_added',
  'member_removed',
  'project_updated',
  'project_deleted',
  'comment_added',
  'comment_updated',
  'comment_deleted',
];

/** A log event of a type this client does not know (a newer server); it still advances the cursor. */
export type UnknownEvent = Envelope<string, unknown>;

/** presence_joined / presence_left: not in the log, no seq. */
export interface PresenceMessage {
  event: 'presence_joined' | 'presence_left';
  data: { user_id: number; username: string };
  project_id: number;
  ts: string;
}

export interface CaughtUpMessage {
  event: 'caught_up';
  seq: number;
}
export interface HeartbeatMessage {
  event: 'heartbeat';
  seq: number;
}
export interface ResyncRequiredMessage {
  event: 'resync_required';
  seq: number;
}

export type NotificationType =
  | 'task_assigned'
  | 'task_status_changed'
  | 'task_updated'
  | 'task_deleted'
  | 'member_added'
  | 'member_removed'
  | 'mentioned'
  | 'task_commented'
  | 'invitation_accepted';

export interface NotificationData {
  project_name?: string;
  actor_username?: string;
  title?: string;
  status?: string;
  changes?: ('status' | 'title')[];
  /** The comment of a `mentioned` or `task_commented` notification, and its task and project. */
  comment_id?: number;
  task_id?: number;
  project_id?: number;
  /** The address and the invitation of an `invitation_accepted` notification. */
  email?: string;
  invitation_id?: number;
}

/** A notification (REST list items and socket pushes alike). */
export interface Notification {
  id: number;
  /** Per user: 1, 2, 3, ... with no gap. */
  seq: number;
  type: NotificationType;
  project_id: number;
  task_id: number | null;
  actor_id: number;
  read: boolean;
  created_at: string;
  data: NotificationData;
}

export interface NotificationMessage {
  event: 'notification';
  data: Notification;
  seq: number;
}

/** Everything a protocol 2 project socket sends. */
export type ProjectSocketMessage =
  | ProjectEvent
  | PresenceMessage
  | CaughtUpMessage
  | HeartbeatMessage
  | ResyncRequiredMessage;

/** Everything the notification socket sends. */
export type NotificationSocketMessage = NotificationMessage | CaughtUpMessage | HeartbeatMessage;
