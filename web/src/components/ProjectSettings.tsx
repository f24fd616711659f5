import type { Project } from '@taskwire/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { navigate, paths } from '../lib/router';
import { required } from '../lib/errors';
import { ErrorMessage } from './ErrorMessage';

/** The owner renames or deletes the project; a member leaves it. */
export function ProjectSettings({ project }: { project: Project }) {
  const { client, user, reloadProjects } = useSession();
  const isOwner = project.owner_id === user.id;
  const [name, setName] = useState(project.name);
  const [editing, setEditing] = useState(false);
  const rename = useAction('project-rename');
  const danger = useAction('project-danger');
  /** Enter both submits the form and fires change: one request per name. */
  const sending = useRef<string | null>(null);

  // Follow renames made elsewhere unless the person is typing one.
  useEffect(() => {
    if (!editing) setName(project.name);
  }, [project.name, editing]);

  const save = () => {
    const next = name.trim();
    if (next === project.name) {
      setEditing(false);
      return;
    }
    if (sending.current === next) return;
    sending.current = next;
    void rename
      .run(async () => {
        await client.projects.update(project.id, { name: required(next, 'A project needs a name.') });
        setEditing(false);
        await reloadProjects();
      })
      .finally(() => {
        sending.current = null;
      });
  };

  const leaveOrDelete = (fn: () => Promise<void>) =>
    void danger.run(async () => {
      await fn();
      await reloadProjects();
      navigate(paths.home());
    });

  return (
    <section class="side-section" aria-labelledby="settings-heading">
      <h2 id="settings-heading">Project</h2>
      {isOwner ? (
        <>
          <form
            class="inline-form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              save();
            }}
          >
            <label for="project-rename">Name</label>
            <div class="row">
              <input
                id="project-rename"
                data-testid="project-rename"
                value={name}
                maxLength={200}
                onInput={(e) => {
                  setEditing(true);
                  setName(e.currentTarget.value);
                }}
                onChange={save}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') {
                    setEditing(false);
                    setName(project.name);
                  }
                }}
              />
              <button type="submit" disabled={rename.busy}>
                Rename
              </button>
            </div>
            <ErrorMessage source="project-rename" />
          </form>
          <button
            type="button"
            class="danger"
            data-testid="project-delete"
            disabled={danger.busy}
            onClick={() => leaveOrDelete(() => client.projects.delete(project.id))}
          >
            Delete project
          </button>
        </>
      ) : (
        <button
          type="button"
          class="danger"
          data-testid="project-leave"
          disabled={danger.busy}
          onClick={() => leaveOrDelete(() => client.projects.removeMember(project.id, user.id))}
        >
          Leave project
        </button>
      )}
      <ErrorMessage source="project-danger" />
    </section>
  );
}
