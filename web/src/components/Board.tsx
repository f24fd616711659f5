import type { BoardMember, Task, TaskStatus } from '@taskwire/client';
import { useMemo, useRef, useState } from 'preact/hooks';
import { useErrors, useSession } from '../context';
import { statuses, statusLabel } from '../lib/status';
import { Column } from './Column';
import type { CardActions, MoveHow } from './TaskCard';

/**
 * The three columns. A card moves by its buttons, the Left/Right arrow
 * keys while it has the focus (which then follows it), or drag and drop.
 * Nothing is moved locally: the card moves when the server's event comes
 * back, so every open board shows the same thing.
 */
export function Board(props: { tasks: Task[]; members: BoardMember[] }) {
  const { client } = useSession();
  const errors = useErrors();
  const [focus, setFocus] = useState<{ id: number; status: TaskStatus } | null>(null);
  const [dragId, setDragId] = useState<number | null>(null);
  const [over, setOver] = useState<TaskStatus | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const focusedCard = useRef<number | null>(null);
  const tasksRef = useRef(props.tasks);
  tasksRef.current = props.tasks;

  const actions = useMemo<CardActions>(() => {
    const act = async (task: Task, fn: () => Promise<unknown>, done: string, onFail?: () => void) => {
      const source = `task-${task.id}`;
      errors.clear(source);
      try {
        await fn();
        setAnnouncement(done);
      } catch (err) {
        onFail?.();
        errors.report(source, err);
      }
    };
    return {
      move(task, status, how: MoveHow) {
        if (task.status === status) return;
        if (how !== 'drag') setFocus({ id: task.id, status });
        void act(
          task,
          () => client.tasks.setStatus(task.id, status),
          `Moved ${task.title} to ${statusLabel[status]}.`,
          () => setFocus(null),
        );
      },
      assign(task, userId) {
        void act(task, () => client.tasks.update(task.id, { assignee_id: userId }), `Updated the assignee of ${task.title}.`);
      },
      remove(task) {
        void act(task, () => client.tasks.delete(task.id), `Deleted ${task.title}.`);
      },
      dragStart: (task) => setDragId(task.id),
      dragEnd: () => {
        setDragId(null);
        setOver(null);
      },
      focused: () => setFocus(null),
      track: (id) => {
        focusedCard.current = id;
      },
      hadFocus: (id) => focusedCard.current === id,
    };
  }, [client, errors.clear, errors.report]);

  const onDrop = (taskId: number, status: TaskStatus) => {
    setDragId(null);
    const task = tasksRef.current.find((t) => t.id === taskId);
    if (task) actions.move(task, status, 'drag');
  };

  return (
    <div class="board" data-testid="board">
      <p id="card-help" class="visually-hidden">
        Left and Right arrow keys move the task to the neighbouring column; Enter opens it.
      </p>
      <p class="visually-hidden" role="status">
        {announcement}
      </p>
      {statuses.map((s) => (
        <Column
          key={s}
          status={s}
          tasks={props.tasks.filter((t) => t.status === s)}
          members={props.members}
          focus={focus}
          dragId={dragId}
          over={over === s}
          actions={actions}
          onOver={setOver}
          onDrop={onDrop}
        />
      ))}
    </div>
  );
}
