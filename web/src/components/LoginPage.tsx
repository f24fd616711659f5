import type { User } from '@taskwire/client';
import { useState } from 'preact/hooks';
import { useAction } from '../context';
import { useTitle } from '../hooks/useTitle';
import { paths } from '../lib/router';
import { client, storeToken } from '../lib/session';
import { ErrorMessage } from './ErrorMessage';
import { Link } from './Link';

/** Logs in with the client (the token is kept in localStorage), then reads who that is. */
export async function logIn(username: string, password: string): Promise<User> {
  const { access_token } = await client.auth.login({ username, password });
  storeToken(access_token);
  return client.users.me();
}

export function LoginPage(props: { next: string | undefined; onLoggedIn: (user: User) => void }) {
  useTitle('Log in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { run, busy } = useAction('login');

  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => props.onLoggedIn(await logIn(username.trim(), password)));
  };

  return (
    <main id="main" class="auth-page">
      <form class="auth-card" onSubmit={submit} noValidate aria-labelledby="login-heading">
        <h1 id="login-heading">Log in to Taskwire</h1>
        <label for="login-username">Username or email</label>
        <input
          id="login-username"
          data-testid="login-username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellcheck={false}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          data-testid="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <ErrorMessage source="login" />
        <button class="primary" type="submit" data-testid="login-submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p class="auth-switch">
          New to Taskwire?{' '}
          <Link href={paths.signup(props.next)} data-testid="signup-link">
            Create an account
          </Link>
        </p>
      </form>
    </main>
  );
}
