import type { User } from '@taskwire/client';
import { useState } from 'preact/hooks';
import { useAction } from '../context';
import { useTitle } from '../hooks/useTitle';
import { paths } from '../lib/router';
import { client } from '../lib/session';
import { ErrorMessage } from './ErrorMessage';
import { Link } from './Link';
import { logIn } from './LoginPage';

export function SignupPage(props: { next: string | undefined; onLoggedIn: (user: User) => void }) {
  useTitle('Sign up');
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { run, busy } = useAction('signup');

  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await client.auth.signup({ email: email.trim(), username: username.trim(), password });
      props.onLoggedIn(await logIn(username.trim(), password));
    });
  };

  return (
    <main id="main" class="auth-page">
      <form class="auth-card" onSubmit={submit} noValidate aria-labelledby="signup-heading">
        <h1 id="signup-heading">Create your Taskwire account</h1>
        <label for="signup-email">Email</label>
        <input
          id="signup-email"
          data-testid="signup-email"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <label for="signup-username">Username</label>
        <input
          id="signup-username"
          data-testid="signup-username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellcheck={false}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="signup-password">Password</label>
        <input
          id="signup-password"
          data-testid="signup-password"
          name="password"
          type="password"
          autoComplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <ErrorMessage source="signup" />
        <button class="primary" type="submit" data-testid="signup-submit" disabled={busy}>
          {busy ? 'Creating account…' : 'Sign up'}
        </button>
        <p class="auth-switch">
          Already have an account? <Link href={paths.login(props.next)}>Log in</Link>
        </p>
      </form>
    </main>
  );
}
