import type { Task } from '@taskwire/client';
import { useEffect, useState } from 'preact/hooks';
import { isOverdue } from '../lib/dates';

// setTimeout takes at most 2^31-1 ms (about 24 days); a later due date is looked at again then.
const MAX_DELAY = 2 ** 31 - 1;

/** Whether the task is overdue now; the component renders again at the due moment, when it becomes so. */
export function useOverdue(task: Pick<Task, 'due_at' | 'status'>): boolean {
  const [, setTick] = useState(0);
  const overdue = isOverdue(task, Date.now());
  useEffect(() => {
    if (task.due_at === null || task.status === 'done' || overdue) return;
    const wait = new Date(task.due_at).getTime() - Date.now();
    const timer = setTimeout(() => setTick((n) => n + 1), Math.min(Math.max(wait + 50, 0), MAX_DELAY));
    return () => clearTimeout(timer);
  }, [task.due_at, task.status, overdue]);
  return overdue;
}
