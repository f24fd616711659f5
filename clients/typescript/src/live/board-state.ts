import type { PresenceMessage, ProjectEvent } from '../events.js';
import type { Member, PresenceEntry, Project, Task } from '../types.js';

/** A member as the board knows it: member_added carries no email. */
export interface BoardMember {
  project_id: number;
  user_id: number;
  user: { id: number; username: string; email?: string };
}

/** A project's state, consistent as of `seq`. */
export interface Board {
  /** null once the project was deleted. */
  project: Project | null;
  members: Map<number, BoardMember>;
  tasks: Map<number, Task>;
  /** Members with an open socket in the room, by user id. */
  presence: Map<number, PresenceEntry>;
  /** Every event up to this seq is reflected, none after it. */
  seq: number;
}

export interface Snapshot {
  project: Project | null;
  members: (Member | BoardMember)[];
  tasks: Task[];
  seq: number;
}

export function boardFrom(snap: Snapshot, presence: Map<number, PresenceEntry>): Board {
  return {
    project: snap.project,
    members: new Map(snap.members.map((m) => [m.user_id, m])),
    tasks: new Map(snap.tasks.map((t) => [t.id, t])),
    presence,
    seq: snap.seq,
  };
}

const taskEvents = new Set(['task_created', 'status_changed', 'task_updated', 'task_deleted']);

export function isTaskEvent(ev: { event: string }): boolean {
  return taskEvents.has(ev.event);
}

/** Applies one log event; returns false (and changes nothing) for one the board already reflects. */
export function applyEvent(board: Board, ev: ProjectEvent): boolean {
  if (ev.seq <= board.seq) return false;
  applyData(board, ev);
  board.seq = ev.seq;
  return true;
}

/** The change itself, without the seq bookkeeping (also used to patch a snapshot up). */
export function applyData(board: Board, ev: ProjectEvent): void {
  switch (ev.event) {
    case 'task_created':
    case 'status_changed':
    case 'task_updated':
      board.tasks.set(ev.data.id, ev.data);
      return;
    case 'task_deleted':
      board.tasks.delete(ev.data.id);
      return;
    case 'member_added':
      board.members.set(ev.data.user_id, { project_id: ev.data.project_id, user_id: ev.data.user_id, user: ev.data.user });
      return;
    case 'member_removed':
      board.members.delete(ev.data.user_id);
      return;
    case 'project_updated':
      board.project = { ...ev.data };
      return;
    case 'project_deleted':
      board.project = null;
      board.tasks.clear();
      board.members.clear();
      return;
  }
}

/** presence_joined adds the user (several tabs count once), presence_left removes them. */
export function applyPresence(presence: Map<number, PresenceEntry>, msg: PresenceMessage): void {
  const { user_id, username } = msg.data;
  if (msg.event === 'presence_left') presence.delete(user_id);
  else if (!presence.has(user_id)) presence.set(user_id, { user_id, username, connections: 1 });
}
