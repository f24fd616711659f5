import type { Invitation, Project } from '@taskwire/client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { required } from '../lib/errors';
import { ErrorMessage } from './ErrorMessage';

/** What an invitation's row says of it. */
function invitationState(inv: Invitation, now: number): 'accepted' | 'expired' | 'pending' {
  if (inv.accepted_at) return 'accepted';
  return new Date(inv.expires_at).getTime() <= now ? 'expired' : 'pending';
}

const stateLabel = { accepted: 'accepted', expired: 'expired', pending: 'pending' } as const;

/**
 * The owner's invitations by email: a form that sends one, and the list
 * with each one's state and a button that withdraws it. `membersCount`
 * changing (someone joined) reads the list again.
 */
export function InvitationsPanel(props: { project: Project; membersCount: number }) {
  const { client } = useSession();
  const { project, membersCount } = props;
  const [email, setEmail] = useState('');
  const [invitations, setInvitations] = useState<Invitation[] | null>(null);
  const send = useAction('invite');
  const revoke = useAction('invite-revoke');
  const load = useAction('invite-list');

  const reload = useCallback(
    () => void load.run(async () => setInvitations(await client.invitations.list(project.id))),
    [client, project.id, load.run],
  );
  useEffect(reload, [reload, membersCount]);

  const submit = (e: Event) => {
    e.preventDefault();
    void send.run(async () => {
      await client.invitations.create(project.id, required(email.trim(), 'Type the email address to invite.'));
      setEmail('');
      reload();
    });
  };

  const now = Date.now();
  return (
    <section class="side-section" aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <form class="inline-form" onSubmit={submit} noValidate>
        <label for="invite-email">Invite by email</label>
        <div class="row">
          <input
            id="invite-email"
            data-testid="invite-email"
            type="email"
            placeholder="name@example.com"
            autoComplete="off"
            autoCapitalize="none"
            spellcheck={false}
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          <button type="submit" data-testid="invite-submit" disabled={send.busy}>
            Invite
          </button>
        </div>
        <ErrorMessage source="invite" />
      </form>
      <ErrorMessage source="invite-list" />
      {invitations !== null && invitations.length === 0 && <p class="muted">No invitations yet.</p>}
      {invitations !== null && invitations.length > 0 && (
        <ul class="invitation-list" data-testid="invitation-list">
          {invitations.map((inv) => {
            const state = invitationState(inv, now);
            return (
              <li key={inv.id} data-testid={`invitation-${inv.id}`} data-state={state}>
                <span class="invitation-email">{inv.email}</span>
                <span class="muted">({stateLabel[state]})</span>
                <button
                  type="button"
                  class="small danger-quiet"
                  data-testid={`invitation-revoke-${inv.id}`}
                  aria-label={`${state === 'pending' ? 'Withdraw the invitation of' : 'Remove the invitation of'} ${inv.email}`}
                  disabled={revoke.busy}
                  onClick={() =>
                    void revoke.run(async () => {
                      await client.invitations.revoke(inv.id);
                      reload();
                    })
                  }
                >
                  {state === 'pending' ? 'Withdraw' : 'Remove'}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <ErrorMessage source="invite-revoke" />
    </section>
  );
}
