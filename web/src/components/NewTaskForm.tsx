import { useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { required } from '../lib/errors';
import { ErrorMessage } from './ErrorMessage';

export function NewTaskForm({ projectId }: { projectId: number }) {
  const { client } = useSession();
  const [title, setTitle] = useState('');
  const { run, busy } = useAction('new-task');
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await client.tasks.create(projectId, { title: required(title, 'Give the task a title.') });
      setTitle('');
    });
  };
  return (
    <form class="inline-form new-task" onSubmit={submit} noValidate>
      <label for="new-task-title">New task</label>
      <div class="row">
        <input
          id="new-task-title"
          data-testid="new-task-title"
          placeholder="What needs doing?"
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <button class="primary" type="submit" data-testid="new-task-submit" disabled={busy}>
          Add task
        </button>
      </div>
      <ErrorMessage source="new-task" />
    </form>
  );
}
