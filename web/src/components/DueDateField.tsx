import type { Task } from '@taskwire/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useErrors } from '../context';
import { useTaskChange } from '../hooks/useTaskChange';
import { fromLocalInput, sameInstant, toLocalInput } from '../lib/dates';
import { InputError } from '../lib/errors';
import { DueLabel } from './DueLabel';
import { ErrorMessage } from './ErrorMessage';

const SETTLE_MS = 700;

/**
 * The task view's due date: a datetime-local field in the person's time
 * zone, sent to the API in UTC. Saved when the person stops changing it
 * (leaving the field, Enter, or a moment after the picker's last change);
 * Clear removes it. While the field is not being edited it follows the
 * live task.
 */
export function DueDateField(props: { task: Task; onSaved: (t: Task) => void }) {
  const { task } = props;
  const id = task.id;
  const source = `task-due-${id}`;
  const { run, busy } = useTaskChange(task, source, props.onSaved);
  const errors = useErrors();
  const [value, setValue] = useState(() => toLocalInput(task.due_at));
  const [editing, setEditing] = useState(false);
  const [status, setStatus] = useState('');
  const timer = useRef<ReturnType<typeof setTimeout>>();
  /** A due date saved here whose event has not reached the board yet: the field keeps it meanwhile. */
  const saved = useRef<string | null | undefined>(undefined);

  useEffect(() => {
    if (editing) return;
    if (saved.current !== undefined && !sameInstant(task.due_at, saved.current)) return;
    saved.current = undefined;
    setValue(toLocalInput(task.due_at));
  }, [task.due_at, editing]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const save = async (raw: string) => {
    clearTimeout(timer.current);
    const due = fromLocalInput(raw);
    setStatus('');
    const ok = await run((t) => {
      if (due === undefined) throw new InputError('That is not a date: pick a day and a time.');
      return sameInstant(t.due_at, due) ? null : { due_at: due };
    });
    if (ok && due !== undefined && !sameInstant(task.due_at, due)) saved.current = due;
    setEditing(false);
    if (ok) setStatus(due ? 'Due date saved.' : 'Due date cleared.');
  };

  /** A half-typed date (a part missing) is refused with a word, not saved as no date. */
  const settle = (el: HTMLInputElement) => {
    if (!el.validity.badInput) return save(el.value);
    clearTimeout(timer.current);
    errors.report(source, new InputError('The due date is not complete: fill in every part, or press Clear.'));
  };

  const hintId = `task-${id}-due-hint`;
  return (
    <section class="task-section" aria-labelledby={`task-${id}-due-heading`}>
      <h3 id={`task-${id}-due-heading`}>Due date</h3>
      <label for={`task-due-input-${id}`} class="visually-hidden">
        Due date and time
      </label>
      <div class="row">
        <input
          id={`task-due-input-${id}`}
          type="datetime-local"
          class="due-input"
          data-testid={`task-due-${id}`}
          aria-describedby={hintId}
          value={value}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setValue(v);
            setEditing(true);
            clearTimeout(timer.current);
            // Empty while a part is being retyped: saved on leaving the field (Clear removes a due date).
            if (v !== '') timer.current = setTimeout(() => void save(v), SETTLE_MS);
          }}
          onBlur={(e) => {
            if (editing) void settle(e.currentTarget);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              void settle(e.currentTarget);
            }
          }}
        />
        <button
          type="button"
          data-testid={`task-due-clear-${id}`}
          disabled={busy || (task.due_at === null && value === '')}
          aria-label="Clear the due date"
          onClick={() => {
            setValue('');
            void save('');
          }}
        >
          Clear
        </button>
      </div>
      <p class="hint" id={hintId}>
        Your local time. The assignee is reminded before it is due.
      </p>
      <DueLabel task={task} />
      <p class="visually-hidden" role="status">
        {status}
      </p>
      <ErrorMessage source={source} />
    </section>
  );
}
