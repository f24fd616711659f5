import { isForbidden, isGone } from '@taskwire/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAction, useErrors, useSession } from '../context';
import { useTitle } from '../hooks/useTitle';
import { navigate, paths } from '../lib/router';
import { ErrorMessage } from './ErrorMessage';
import { Link } from './Link';

/**
 * An invitation's link seen without a session: the person signs up (or
 * logs in) and comes back here, where the invitation is accepted.
 */
export function InviteWelcome(props: { token: string }) {
  useTitle('Invitation');
  const here = paths.invite(props.token);
  return (
    <main id="main" class="auth-page">
      <div class="auth-card" data-testid="invite-welcome">
        <h1>You are invited to a Taskwire project</h1>
        <p>
          Create an account with the email address the invitation was sent to, or log in if you already have one. You
          join the project as soon as you are signed in.
        </p>
        <Link class="button primary" href={paths.signup(here)} data-testid="invite-signup">
          Sign up and join
        </Link>
        <p class="auth-switch">
          Already have an account?{' '}
          <Link href={paths.login(here)} data-testid="invite-login">
            Log in and join
          </Link>
        </p>
      </div>
    </main>
  );
}

/** Accepts the invitation of the link once, then opens its project; or says why it cannot. */
export function InvitePage(props: { token: string }) {
  useTitle('Invitation');
  const { client, user, reloadProjects, logout } = useSession();
  const errors = useErrors();
  const { run, busy } = useAction('invite-accept');
  const [problem, setProblem] = useState<'other' | 'gone' | 'failed' | null>(null);
  const started = useRef(false);

  const accept = () =>
    void run(async () => {
      setProblem(null);
      try {
        const project = await client.invitations.accept(props.token);
        await reloadProjects();
        navigate(paths.project(project.id), { replace: true });
      } catch (err) {
        setProblem(isForbidden(err) ? 'other' : isGone(err) ? 'gone' : 'failed');
        throw err;
      }
    });

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    accept();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const switchAccount = () => {
    errors.clear();
    logout();
    navigate(paths.invite(props.token), { replace: true });
  };

  return (
    <div class="page invite-page" data-testid="invite-page" data-state={busy ? 'accepting' : (problem ?? 'accepting')}>
      <h1>Invitation</h1>
      {problem === null && <p role="status">Joining the project…</p>}
      <ErrorMessage source="invite-accept" />
      {problem === 'other' && (
        <>
          <p>
            You are signed in as <strong>{user.username}</strong> ({user.email}). Log in with the account of the invited
            address, or create one with it.
          </p>
          <button type="button" class="primary" data-testid="invite-switch-account" onClick={switchAccount}>
            Use another account
          </button>
        </>
      )}
      {problem === 'gone' && <p>It was used already, has expired or was withdrawn. Ask the project's owner to invite you again.</p>}
      {problem === 'failed' && (
        <button type="button" class="primary" data-testid="invite-retry" disabled={busy} onClick={accept}>
          Try again
        </button>
      )}
      {problem !== null && (
        <p>
          <Link href={paths.home()}>Go to your projects</Link>
        </p>
      )}
    </div>
  );
}
