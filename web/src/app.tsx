import type { Notification, Project, User } from '@taskwire/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { HomePage } from './components/HomePage';
import { InvitePage, InviteWelcome } from './components/InvitePage';
import { Link, Redirect } from './components/Link';
import { LoginPage } from './components/LoginPage';
import { ProjectPage } from './components/ProjectPage';
import { Shell } from './components/Shell';
import { SignupPage } from './components/SignupPage';
import { ErrorProvider, SessionContext, useErrors, type BoardConnection, type Session } from './context';
import { useInbox } from './hooks/useInbox';
import { useTitle } from './hooks/useTitle';
import { isUnauthorized, messageOf } from './lib/errors';
import { navigate, parseRoute, paths, safeNext, useLocation, type Route } from './lib/router';
import { client, onTokenChange, storedToken, storeToken } from './lib/session';

type Auth = { status: 'checking' } | { status: 'anonymous' } | { status: 'signed-in'; user: User };

function forget(): void {
  client.setToken(undefined);
  storeToken(undefined);
}

/** The signed-in part: the session's shared state, the frame, the page of the route. */
function SignedIn(props: { user: User; route: Route; onLogout: () => void }) {
  const errors = useErrors();
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [board, setBoard] = useState<BoardConnection | null>(null);

  const reloadProjects = useCallback(async () => {
    try {
      setProjects((await client.projects.list()).projects);
    } catch (err) {
      errors.report('projects', err);
    }
  }, [errors.report]);

  const onNotification = useCallback(
    (n: Notification) => {
      if (n.type === 'member_added' || n.type === 'member_removed' || n.type === 'invitation_accepted') void reloadProjects();
    },
    [reloadProjects],
  );
  const inbox = useInbox(client, onNotification);

  const session = useMemo<Session>(
    () => ({ client, user: props.user, projects, reloadProjects, inbox, board, setBoard, logout: props.onLogout }),
    [props.user, projects, reloadProjects, inbox, board, props.onLogout],
  );

  const { route } = props;
  return (
    <SessionContext.Provider value={session}>
      <Shell>
        {route.name === 'home' && <HomePage />}
        {route.name === 'project' && (
          <ProjectPage key={route.projectId} projectId={route.projectId} taskId={route.taskId} />
        )}
        {route.name === 'invite' && <InvitePage key={route.token} token={route.token} />}
        {route.name === 'notFound' && <NotFound />}
      </Shell>
    </SessionContext.Provider>
  );
}

function NotFound() {
  useTitle('Not found');
  return (
    <div class="page">
      <h1>Page not found</h1>
      <p>
        <Link href={paths.home()}>Go to your projects</Link>
      </p>
    </div>
  );
}

function Boot(props: { error: unknown; onRetry: () => void }) {
  return (
    <main id="main" class="auth-page">
      <div class="auth-card">
        <h1>Taskwire</h1>
        {props.error ? (
          <>
            <p class="error-message" role="alert">
              {messageOf(props.error)}
            </p>
            <button type="button" class="primary" onClick={props.onRetry}>
              Try again
            </button>
          </>
        ) : (
          <p role="status">Loading…</p>
        )}
      </div>
    </main>
  );
}

function Routes() {
  const loc = useLocation();
  const route = parseRoute(loc.pathname);
  const [auth, setAuth] = useState<Auth>(() => (storedToken() ? { status: 'checking' } : { status: 'anonymous' }));
  const [bootError, setBootError] = useState<unknown>(null);
  const errors = useErrors();

  // A kept token is checked once: still good, or back to the login page.
  const check = useCallback(() => {
    setBootError(null);
    client.users.me().then(
      (user) => setAuth({ status: 'signed-in', user }),
      (err: unknown) => {
        if (isUnauthorized(err)) {
          forget();
          setAuth({ status: 'anonymous' });
        } else setBootError(err);
      },
    );
  }, []);
  useEffect(() => {
    if (auth.status === 'checking') check();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // Signing out (or in again) in another tab applies here too.
  useEffect(
    () =>
      onTokenChange((token) => {
        client.setToken(token);
        if (token === undefined) setAuth({ status: 'anonymous' });
        else check();
      }),
    [check],
  );

  // A new page starts without the previous page's error (the first render keeps a "session expired").
  const firstPath = useRef(true);
  useEffect(() => {
    if (firstPath.current) firstPath.current = false;
    else errors.clear();
  }, [loc.pathname]); // eslint-disable-line react-hooks/exhaustive-deps

  const logout = useCallback(() => {
    forget();
    setAuth({ status: 'anonymous' });
    navigate(paths.login(), { replace: false });
  }, []);

  const next = safeNext(new URLSearchParams(loc.search).get('next'));
  const onLoggedIn = useCallback(
    (user: User) => {
      setAuth({ status: 'signed-in', user });
      navigate(next ?? paths.home(), { replace: true });
    },
    [next],
  );

  if (auth.status === 'checking') return <Boot error={bootError} onRetry={check} />;
  if (auth.status === 'anonymous') {
    if (route.name === 'login') return <LoginPage next={next} onLoggedIn={onLoggedIn} />;
    if (route.name === 'signup') return <SignupPage next={next} onLoggedIn={onLoggedIn} />;
    // An invitation's link: sign up (or log in) first, then back here to accept.
    if (route.name === 'invite') return <InviteWelcome token={route.token} />;
    // Any other page needs a session: log in first, then come back here.
    const here = loc.pathname + loc.search;
    return <Redirect to={paths.login(route.name === 'home' ? undefined : here)} />;
  }
  if (route.name === 'login' || route.name === 'signup') return <Redirect to={next ?? paths.home()} />;
  return <SignedIn key={auth.user.id} user={auth.user} route={route} onLogout={logout} />;
}

/** Unauthorized answers (an expired token) end the session: log in again, then return to the page. */
export function App() {
  const [key, setKey] = useState(0);
  const onUnauthorized = useCallback(() => {
    forget();
    const here = window.location.pathname + window.location.search;
    navigate(paths.login(safeNext(here)), { replace: true });
    setKey((k) => k + 1);
  }, []);
  return (
    <ErrorProvider onUnauthorized={onUnauthorized}>
      <Routes key={key} />
    </ErrorProvider>
  );
}
