import type { ComponentChildren } from 'preact';
import { useSession } from '../context';
import { paths } from '../lib/router';
import { ConnectionStatus } from './ConnectionStatus';
import { Link } from './Link';
import { NotificationBell } from './NotificationBell';
import { SearchBox } from './SearchBox';

/** The signed-in frame: a skip link, the top bar (with the search), the page. */
export function Shell({ children }: { children: ComponentChildren }) {
  const { user, logout } = useSession();
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link class="brand" href={paths.home()}>
          Taskwire
        </Link>
        <nav aria-label="Main" class="topnav">
          <Link href={paths.home()}>Projects</Link>
        </nav>
        <SearchBox />
        <div class="topbar-right">
          <ConnectionStatus />
          <NotificationBell />
          <span class="whoami">
            <span class="visually-hidden">Signed in as </span>
            {user.username}
          </span>
          <button type="button" class="small" data-testid="logout" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
