import type { Project } from '@taskwire/client';
import { useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { required } from '../lib/errors';
import { ErrorMessage } from './ErrorMessage';

export function NewProjectForm(props: { onCreated: (p: Project) => void }) {
  const { client, reloadProjects } = useSession();
  const [name, setName] = useState('');
  const { run, busy } = useAction('new-project');
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const p = await client.projects.create({ name: required(name, 'Give the project a name.') });
      setName('');
      await reloadProjects();
      props.onCreated(p);
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <label for="new-project-name">New project</label>
      <div class="row">
        <input
          id="new-project-name"
          data-testid="new-project-name"
          placeholder="Project name"
          maxLength={200}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <button class="primary" type="submit" data-testid="new-project-submit" disabled={busy}>
          Create project
        </button>
      </div>
      <ErrorMessage source="new-project" />
    </form>
  );
}
