import type { BoardMember, Task, TaskStatus } from '@taskwire/client';
import { memo } from 'preact/compat';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { navigate, paths } from '../lib/router';
import { isStatus, neighbour, statuses, statusLabel } from '../lib/status';
import { DueLabel } from './DueLabel';
import { ErrorMessage } from './ErrorMessage';
import { LabelList } from './LabelList';
import { Link } from './Link';

export const DRAG_TYPE = 'application/x-taskwire-task';

export type MoveHow = 'keyboard' | 'button' | 'drag';

export interface CardActions {
  move(task: Task, status: TaskStatus, how: MoveHow): void;
  assign(task: Task, userId: number | null): void;
  remove(task: Task): void;
  dragStart(task: Task): void;
  dragEnd(): void;
  /** The card took the focus it was asked to take. */
  focused(): void;
  /** Which card has the keyboard focus (null: none); it keeps it when someone else moves the card. */
  track(id: number | null): void;
  hadFocus(id: number): boolean;
}

interface Props {
  task: Task;
  members: BoardMember[];
  /** Take the focus (after a keyboard or button move brought the card here). */
  focus: boolean;
  dragging: boolean;
  actions: CardActions;
}

const arrow = (from: string, to: TaskStatus) =>
  isStatus(from) && statuses.indexOf(to) < statuses.indexOf(from) ? '←' : '→';

/** A task on the board: its title opens it; assignee, moves and delete are on the card itself; labels and the due date are shown. */
export const TaskCard = memo(function TaskCard({ task, members, focus, dragging, actions }: Props) {
  const ref = useRef<HTMLElement>(null);
  const id = task.id;
  const titleId = `task-${id}-heading`;

  useLayoutEffect(() => {
    if (focus && ref.current) {
      ref.current.focus();
      actions.focused();
    }
  }, [focus, task.status, actions]);

  // Moved by someone else while focused here: the card is mounted anew in its column; keep the focus on it.
  useLayoutEffect(() => {
    if (actions.hadFocus(id) && document.activeElement === document.body) ref.current?.focus();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const to = isStatus(task.status) ? neighbour(task.status, e.key === 'ArrowLeft' ? -1 : 1) : undefined;
      e.preventDefault();
      if (to) actions.move(task, to, 'keyboard');
    } else if (e.key === 'Enter') {
      e.preventDefault();
      navigate(paths.task(task.project_id, id));
    }
  };

  const assigneeKnown = task.assignee_id === null || members.some((m) => m.user_id === task.assignee_id);
  return (
    <li class="card-slot">
      <article
        ref={ref}
        class={`card${dragging ? ' dragging' : ''}`}
        data-testid={`task-card-${id}`}
        data-status={task.status}
        data-version={String(task.version)}
        data-task-id={String(id)}
        tabIndex={0}
        draggable
        aria-labelledby={titleId}
        aria-describedby="card-help"
        onKeyDown={onKeyDown}
        onFocus={(e) => e.target === e.currentTarget && actions.track(id)}
        onBlur={(e) => e.target === e.currentTarget && e.relatedTarget !== null && actions.track(null)}
        onDragStart={(e) => {
          if (!e.dataTransfer) return;
          e.dataTransfer.setData(DRAG_TYPE, String(id));
          e.dataTransfer.setData('text/plain', task.title);
          e.dataTransfer.effectAllowed = 'move';
          actions.dragStart(task);
        }}
        onDragEnd={() => actions.dragEnd()}
      >
        <div class="card-head">
          <span class="card-id" aria-hidden="true">
            #{id}
          </span>
          <label class="visually-hidden" for={`task-${id}-assignee`}>
            Assignee
          </label>
          <select
            id={`task-${id}-assignee`}
            class="card-assignee"
            data-testid={`task-assignee-${id}`}
            aria-label={`Assignee of ${task.title}`}
            value={task.assignee_id === null ? '' : String(task.assignee_id)}
            onChange={(e) => {
              const v = e.currentTarget.value;
              actions.assign(task, v === '' ? null : Number(v));
            }}
          >
            <option value="">Unassigned</option>
            {members.map((m) => (
              <option key={m.user_id} value={String(m.user_id)}>
                {m.user.username}
              </option>
            ))}
            {!assigneeKnown && <option value={String(task.assignee_id)}>{`user ${task.assignee_id}`}</option>}
          </select>
          <button
            type="button"
            class="icon-button danger-quiet"
            data-testid={`task-delete-${id}`}
            aria-label={`Delete ${task.title}`}
            title="Delete"
            onClick={() => actions.remove(task)}
          >
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
              <path
                fill="currentColor"
                d="M9 3h6l1 2h4v2H4V5h4l1-2Zm-3 6h12l-1 12H7L6 9Zm4 2v8h2v-8h-2Zm4 0v8h2v-8h-2Z"
              />
            </svg>
          </button>
        </div>
        <h3 class="card-title" id={titleId}>
          <Link href={paths.task(task.project_id, id)} data-testid={`task-title-${id}`} draggable={false}>
            {task.title}
          </Link>
        </h3>
        {task.description && <p class="card-description">{task.description}</p>}
        <LabelList labels={task.labels ?? []} testId={`task-labels-${id}`} />
        <DueLabel task={task} testId={`task-due-label-${id}`} />
        <div class="card-actions">
          {statuses
            .filter((s) => s !== task.status)
            .map((s) => (
              <button
                key={s}
                type="button"
                class="small move"
                data-testid={`task-move-${id}-${s}`}
                aria-label={`Move ${task.title} to ${statusLabel[s]}`}
                onClick={() => actions.move(task, s, 'button')}
              >
                <span aria-hidden="true">{arrow(task.status, s)} </span>
                {statusLabel[s]}
              </button>
            ))}
        </div>
        <ErrorMessage source={`task-${id}`} />
      </article>
    </li>
  );
});
