/**
 * App-wide state, in two contexts: the latest error (every page has one),
 * and the signed-in session (user, projects, inbox, connection).
 */
import type { Project, SubscriptionState, User } from '@taskwire/client';
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useMemo, useRef, useState } from 'preact/hooks';
import type { Inbox } from './hooks/useInbox';
import { isUnauthorized, messageOf } from './lib/errors';
import type { Client } from './lib/session';

export interface LatestError {
  /** What caused it (a form, a card...): its ErrorMessage shows it, next to it. */
  source: string;
  message: string;
}

export interface Errors {
  latest: LatestError | null;
  report(source: string, err: unknown): void;
  /** Clears the latest error if it came from source (any source when omitted). */
  clear(source?: string): void;
}

const ErrorContext = createContext<Errors | null>(null);

export function ErrorProvider(props: { onUnauthorized: () => void; children: ComponentChildren }) {
  const [latest, setLatest] = useState<LatestError | null>(null);
  const onUnauthorized = useRef(props.onUnauthorized);
  onUnauthorized.current = props.onUnauthorized;
  const report = useCallback((source: string, err: unknown) => {
    if (source !== 'login' && isUnauthorized(err)) {
      setLatest({ source: 'login', message: 'Your session has expired. Log in again.' });
      onUnauthorized.current();
      return;
    }
    if (!(err instanceof Error) || err.name !== 'InputError') console.warn(`[${source}]`, err);
    setLatest({ source, message: messageOf(err) });
  }, []);
  const clear = useCallback((source?: string) => {
    setLatest((cur) => (cur && (source === undefined || cur.source === source) ? null : cur));
  }, []);
  const value = useMemo(() => ({ latest, report, clear }), [latest, report, clear]);
  return <ErrorContext.Provider value={value}>{props.children}</ErrorContext.Provider>;
}

export function useErrors(): Errors {
  const ctx = useContext(ErrorContext);
  if (!ctx) throw new Error('useErrors outside ErrorProvider');
  return ctx;
}

/**
 * Runs a person's action: `busy` while it runs; a failure becomes the
 * latest error, shown by the ErrorMessage of the same source. Resolves to
 * whether it succeeded.
 */
export function useAction(source: string) {
  const errors = useErrors();
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (fn: () => Promise<unknown>): Promise<boolean> => {
      setBusy(true);
      errors.clear(source);
      try {
        await fn();
        return true;
      } catch (err) {
        errors.report(source, err);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [source, errors.clear, errors.report],
  );
  return { run, busy };
}

/** The project page's live board connection, shown in the header. */
export interface BoardConnection {
  state: SubscriptionState;
  retry(): void;
}

export interface Session {
  client: Client;
  user: User;
  projects: Project[] | null;
  reloadProjects(): Promise<void>;
  inbox: Inbox;
  board: BoardConnection | null;
  setBoard(c: BoardConnection | null): void;
  logout(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside a signed-in page');
  return ctx;
}
