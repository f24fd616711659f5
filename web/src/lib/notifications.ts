import type { Notification } from '@taskwire/client';
import { formatDue } from './dates';
import { paths } from './router';
import { isStatus, statusLabel } from './status';

/** The reminder's field, until the client's NotificationData names it. */
interface NewerData {
  due_at?: string;
  /** webhook_disabled: the webhook's URL and why ("gone": it answered 410; "failing": for a day). */
  url?: string;
  reason?: string;
}

/** A notification in words, from the point of view of the person notified. */
export function describeNotification(n: Notification): string {
  const actor = n.data.actor_username ?? 'Someone';
  const title = n.data.title ?? 'a task';
  const project = n.data.project_name ?? 'a project';
  const type: string = n.type;
  switch (type) {
    case 'task_assigned':
      return `${actor} assigned ${title} to you`;
    case 'task_status_changed': {
      const s = n.data.status;
      return `${actor} moved ${title} to ${isStatus(s) ? statusLabel[s] : (s ?? 'another column')}`;
    }
    case 'task_updated':
      return n.data.changes?.includes('title') ? `${actor} renamed your task to ${title}` : `${actor} updated ${title}`;
    case 'task_deleted':
      return `${actor} deleted ${title}`;
    case 'member_added':
      return `${actor} added you to ${project}`;
    case 'member_removed':
      return `${actor} removed you from ${project}`;
    case 'mentioned':
      return `${actor} mentioned you in a comment on ${title}`;
    case 'task_commented':
      return `${actor} commented on ${title}`;
    case 'invitation_accepted':
      return `${actor} accepted your invitation and joined ${project}`;
    case 'task_due_soon': {
      const due = (n.data as NewerData).due_at;
      if (!due) return `${title} is due soon`;
      return `${title} ${new Date(due).getTime() < Date.now() ? 'was' : 'is'} due ${formatDue(due)}`;
    }
    case 'webhook_disabled': {
      const d = n.data as NewerData;
      const why = d.reason === 'gone' ? 'its receiver answered 410 Gone' : 'its deliveries kept failing for a day';
      return `A webhook of ${project}${d.url ? ` (${d.url})` : ''} was turned off: ${why}`;
    }
    default:
      return `${actor} changed something in ${project}`;
  }
}

/** Where a notification leads: its task, else its project (none once access is gone). */
export function notificationHref(n: Notification): string | undefined {
  if (n.type === 'member_removed') return undefined;
  if (n.task_id !== null && n.type !== 'task_deleted') return paths.task(n.project_id, n.task_id);
  return paths.project(n.project_id);
}
