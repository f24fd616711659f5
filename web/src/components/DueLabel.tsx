import type { Task } from '@taskwire/client';
import { useOverdue } from '../hooks/useOverdue';
import { formatDue } from '../lib/dates';

/**
 * A task's due date, and "Overdue" (in words, not only in colour) once it
 * has passed while the task is not done. Nothing when it has none.
 */
export function DueLabel(props: { task: Pick<Task, 'due_at' | 'status'>; testId?: string }) {
  const { due_at } = props.task;
  const overdue = useOverdue(props.task);
  if (due_at === null) return null;
  return (
    <p class={`due${overdue ? ' overdue' : ''}`} data-testid={props.testId} data-overdue={String(overdue)}>
      {overdue ? (
        <>
          <span class="due-flag">
            <span aria-hidden="true">⚠ </span>Overdue
          </span>{' '}
          · was due{' '}
        </>
      ) : (
        'Due '
      )}
      <time dateTime={due_at}>{formatDue(due_at)}</time>
    </p>
  );
}
