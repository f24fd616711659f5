import type { TaskStatus } from '@taskwire/client';

export const statuses: readonly TaskStatus[] = ['todo', 'in_progress', 'done'];

export const statusLabel: Record<TaskStatus, string> = {
  todo: 'To do',
  in_progress: 'In progress',
  done: 'Done',
};

/** The status one step left (-1) or right (+1) of this one, if any. */
export function neighbour(status: TaskStatus, step: -1 | 1): TaskStatus | undefined {
  return statuses[statuses.indexOf(status) + step];
}

export function isStatus(s: unknown): s is TaskStatus {
  return typeof s === 'string' && (statuses as readonly string[]).includes(s);
}
