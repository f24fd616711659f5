/**
 * A small router for the app under /app/: the routes are parsed from the
 * path, navigation uses the History API, and components read the current
 * location with useLocation().
 */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/app';

export type Route =
  | { name: 'home' }
  | { name: 'login' }
  | { name: 'signup' }
  | { name: 'project'; projectId: number; taskId?: number }
  | { name: 'invite'; token: string }
  | { name: 'notFound' };

const positiveInt = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^[1-9]\d{0,15}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
};

/** The route of a path such as /app/projects/1/tasks/2. */
export function parseRoute(pathname: string): Route {
  let path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  path = path.replace(/\/+$/, '');
  if (path === '' || path === '/index.html') return { name: 'home' };
  if (path === '/login') return { name: 'login' };
  if (path === '/signup') return { name: 'signup' };
  const invite = /^\/invite\/([A-Za-z0-9_-]{1,200})$/.exec(path);
  if (invite) return { name: 'invite', token: invite[1]! };
  const m = /^\/projects\/([^/]+)(?:\/tasks\/([^/]+))?$/.exec(path);
  if (m) {
    const projectId = positiveInt(m[1]);
    const taskId = m[2] === undefined ? undefined : positiveInt(m[2]);
    if (projectId !== undefined && (m[2] === undefined || taskId !== undefined)) {
      return taskId === undefined ? { name: 'project', projectId } : { name: 'project', projectId, taskId };
    }
  }
  return { name: 'notFound' };
}

export const paths = {
  home: () => `${BASE}/`,
  login: (next?: string) => `${BASE}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`,
  signup: (next?: string) => `${BASE}/signup${next ? `?next=${encodeURIComponent(next)}` : ''}`,
  project: (id: number) => `${BASE}/projects/${id}`,
  task: (projectId: number, taskId: number) => `${BASE}/projects/${projectId}/tasks/${taskId}`,
  invite: (token: string) => `${BASE}/invite/${token}`,
};

/** Where to go after logging in: only a path of this app (never another site). */
export function safeNext(raw: string | null): string | undefined {
  if (!raw || !raw.startsWith(`${BASE}/`) || raw.startsWith('//') || raw.includes('\\')) return undefined;
  const route = parseRoute(new URL(raw, 'http://x').pathname);
  return route.name === 'login' || route.name === 'signup' ? undefined : raw;
}

export interface Location {
  pathname: string;
  search: string;
}

const listeners = new Set<() => void>();

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search;
  if (to !== here) {
    if (opts.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
  }
  for (const fn of listeners) fn();
}

window.addEventListener('popstate', () => {
  for (const fn of listeners) fn();
});

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const fn = () =>
      setLoc((prev) => {
        const next = current();
        return next.pathname === prev.pathname && next.search === prev.search ? prev : next;
      });
    listeners.add(fn);
    // A child's effect may have navigated before this one subscribed.
    fn();
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return loc;
}

/** A click that the browser should handle itself (new tab, download...). */
export function isModifiedClick(e: MouseEvent): boolean {
  return e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey;
}
