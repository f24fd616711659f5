import type { BoardMember, Task, TaskStatus } from '@taskwire/client';
import { statusLabel } from '../lib/status';
import { DRAG_TYPE, TaskCard, type CardActions } from './TaskCard';

interface Props {
  status: TaskStatus;
  tasks: Task[];
  members: BoardMember[];
  focus: { id: number; status: TaskStatus } | null;
  dragId: number | null;
  over: boolean;
  actions: CardActions;
  onOver(status: TaskStatus | null): void;
  onDrop(taskId: number, status: TaskStatus): void;
}

const carriesTask = (e: DragEvent) => Boolean(e.dataTransfer?.types.includes(DRAG_TYPE));

/** One status's column: a drop target for dragged cards. */
export function Column(props: Props) {
  const { status, tasks } = props;
  const headingId = `column-${status}-heading`;
  return (
    <section
      class={`column${props.over ? ' drop-target' : ''}`}
      data-testid={`column-${status}`}
      data-status={status}
      aria-labelledby={headingId}
      onDragOver={(e) => {
        if (!carriesTask(e)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'move';
        if (!props.over) props.onOver(status);
      }}
      onDragLeave={(e) => {
        const to = e.relatedTarget as Node | null;
        if (!to || !e.currentTarget.contains(to)) props.onOver(null);
      }}
      onDrop={(e) => {
        if (!carriesTask(e)) return;
        e.preventDefault();
        props.onOver(null);
        const id = Number(e.dataTransfer?.getData(DRAG_TYPE));
        if (Number.isSafeInteger(id) && id > 0) props.onDrop(id, status);
      }}
    >
      <h2 id={headingId} class="column-heading">
        {statusLabel[status]}
        <span class="count">
          {tasks.length}
          <span class="visually-hidden"> {tasks.length === 1 ? 'task' : 'tasks'}</span>
        </span>
      </h2>
      <ul class="cards">
        {tasks.map((t) => (
          <TaskCard
            key={t.id}
            task={t}
            members={props.members}
            focus={props.focus !== null && props.focus.id === t.id && props.focus.status === t.status}
            dragging={props.dragId === t.id}
            actions={props.actions}
          />
        ))}
      </ul>
    </section>
  );
}
