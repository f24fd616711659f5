import type { BoardMember, Project } from '@taskwire/client';
import { useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { required } from '../lib/errors';
import { ErrorMessage } from './ErrorMessage';

/** Members; the owner adds people by username and removes them. */
export function MembersPanel(props: { project: Project; members: BoardMember[] }) {
  const { client, user } = useSession();
  const { project, members } = props;
  const isOwner = project.owner_id === user.id;
  const [username, setUsername] = useState('');
  const add = useAction('member-add');
  const remove = useAction('member-remove');

  const submit = (e: Event) => {
    e.preventDefault();
    void add.run(async () => {
      await client.projects.addMember(project.id, { username: required(username, 'Type the username of the person to add.') });
      setUsername('');
    });
  };

  return (
    <section class="side-section" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <ul class="member-list" data-testid="member-list">
        {members.map((m) => (
          <li key={m.user_id} data-testid={`member-${m.user_id}`}>
            <span class="member-name">
              {m.user.username}
              {m.user_id === project.owner_id && <span class="muted"> (owner)</span>}
              {m.user_id === user.id && <span class="muted"> (you)</span>}
            </span>
            {isOwner && m.user_id !== project.owner_id && (
              <button
                type="button"
                class="small danger-quiet"
                data-testid={`member-remove-${m.user_id}`}
                aria-label={`Remove ${m.user.username} from the project`}
                disabled={remove.busy}
                onClick={() => void remove.run(() => client.projects.removeMember(project.id, m.user_id))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <ErrorMessage source="member-remove" />
      {isOwner && (
        <form class="inline-form" onSubmit={submit} noValidate>
          <label for="member-add-username">Add a member</label>
          <div class="row">
            <input
              id="member-add-username"
              data-testid="member-add-username"
              placeholder="Username"
              autoCapitalize="none"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
            <button type="submit" data-testid="member-add-submit" disabled={add.busy}>
              Add
            </button>
          </div>
          <ErrorMessage source="member-add" />
        </form>
      )}
    </section>
  );
}
