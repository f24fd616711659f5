/**
 * The project's events in words: "ada moved Fix login to Done". Events are
 * read in seq order while the tasks they touch are tracked, so an update
 * says what changed and a deletion names the task it removed.
 */
import type { ProjectEvent, Task } from '@taskwire/client';
import { formatDue, sameInstant } from './dates';
import { hasLabel } from './labels';
import { isStatus, statusLabel } from './status';

export interface ActivityItem {
  seq: number;
  ts: string;
  text: string;
}

export interface ActivityContext {
  /** The board's snapshot: the tasks and project name as of `seq`. */
  snapshot: { seq: number; tasks: ReadonlyMap<number, Task>; projectName: string | undefined };
  /** Usernames known from elsewhere (members, presence, the signed-in user). */
  names: ReadonlyMap<number, string>;
  /** Titles of tasks seen before, for deletions of tasks older than the events. */
  titles: ReadonlyMap<number, string>;
}

function label(status: string): string {
  return isStatus(status) ? statusLabel[status] : status;
}

function joinAnd(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function describeUpdate(actor: string, before: Task | undefined, after: Task, name: (id: number) => string): string {
  if (!before) return `${actor} updated ${after.title}`;
  const parts: string[] = [];
  if (before.title !== after.title) parts.push(`renamed ${before.title} to ${after.title}`);
  if (before.status !== after.status) parts.push(`moved ${after.title} to ${label(after.status)}`);
  if (before.assignee_id !== after.assignee_id) {
    parts.push(after.assignee_id === null ? `unassigned ${after.title}` : `assigned ${after.title} to ${name(after.assignee_id)}`);
  }
  if ((before.description ?? '') !== (after.description ?? '')) parts.push(`edited the description of ${after.title}`);
  const was = before.labels ?? [];
  const now = after.labels ?? [];
  const added = now.filter((l) => !hasLabel(was, l));
  const removed = was.filter((l) => !hasLabel(now, l));
  if (added.length) parts.push(`labelled ${after.title} ${joinAnd(added)}`);
  if (removed.length) parts.push(`removed the label${removed.length > 1 ? 's' : ''} ${joinAnd(removed)} from ${after.title}`);
  if (!sameInstant(before.due_at, after.due_at)) {
    parts.push(after.due_at ? `set ${after.title} due ${formatDue(after.due_at)}` : `removed the due date of ${after.title}`);
  }
  return parts.length === 0 ? `${actor} updated ${after.title}` : `${actor} ${joinAnd(parts)}`;
}

/** Sentences for events sorted by seq (oldest first); returned oldest first too. */
export function describeEvents(events: readonly ProjectEvent[], ctx: ActivityContext): ActivityItem[] {
  const names = new Map(ctx.names);
  for (const ev of events) if (ev.event === 'member_added') names.set(ev.data.user_id, ev.data.user.username);
  const name = (id: number) => names.get(id) ?? 'someone';
  const titles = new Map(ctx.titles);
  let tasks = new Map<number, Task>();
  let projectName: string | undefined;
  let crossed = false;
  const out: ActivityItem[] = [];
  for (const ev of events) {
    if (!crossed && ev.seq > ctx.snapshot.seq) {
      // The snapshot is the exact state at its seq: what every later event starts from.
      crossed = true;
      tasks = new Map(ctx.snapshot.tasks);
      projectName = ctx.snapshot.projectName;
    }
    const actor = name(ev.actor_id);
    let text: string;
    switch (ev.event) {
      case 'task_created':
        text = `${actor} created ${ev.data.title}` + (ev.data.status === 'todo' ? '' : ` in ${label(ev.data.status)}`);
        break;
      case 'status_changed':
        text = `${actor} moved ${ev.data.title} to ${label(ev.data.status)}`;
        break;
      case 'task_updated':
        text = describeUpdate(actor, tasks.get(ev.data.id), ev.data, name);
        break;
      case 'task_deleted': {
        const title = tasks.get(ev.data.id)?.title ?? titles.get(ev.data.id);
        text = `${actor} deleted ${title ?? 'a task'}`;
        break;
      }
      case 'member_added':
        text = ev.actor_id === ev.data.user_id ? `${actor} joined the project` : `${actor} added ${ev.data.user.username}`;
        break;
      case 'member_removed':
        text =
          ev.actor_id === ev.data.user_id ? `${actor} left the project` : `${actor} removed ${name(ev.data.user_id)}`;
        break;
      case 'project_updated':
        text =
          projectName !== undefined && projectName === ev.data.name
            ? `${actor} edited the project's description`
            : `${actor} renamed the project to ${ev.data.name}`;
        projectName = ev.data.name;
        break;
      case 'project_deleted':
        text = `${actor} deleted the project`;
        break;
      case 'comment_added':
      case 'comment_updated':
      case 'comment_deleted': {
        const title = tasks.get(ev.data.task_id)?.title ?? titles.get(ev.data.task_id) ?? 'a task';
        const verb = ev.event === 'comment_added' ? 'commented on' : ev.event === 'comment_updated' ? 'edited a comment on' : 'deleted a comment on';
        text = `${actor} ${verb} ${title}`;
        break;
      }
      default:
        continue;
    }
    if (ev.event === 'task_deleted') tasks.delete(ev.data.id);
    else if (ev.event === 'task_created' || ev.event === 'status_changed' || ev.event === 'task_updated') {
      tasks.set(ev.data.id, ev.data);
      titles.set(ev.data.id, ev.data.title);
    }
    out.push({ seq: ev.seq, ts: ev.ts, text });
  }
  return out;
}
