/**
 * A project's board from the client's live() board: a snapshot, then
 * every event in order (and a fresh snapshot after a resync), so after any
 * reconnection the board is exactly the server's. Rendered from immutable
 * copies; unchanged tasks keep their identity, so their cards do not
 * re-render. Comment events (which the board itself does not keep) go to
 * whoever listens on `comments`, and a fresh snapshot tells them to read
 * again.
 */
import type {
  Board,
  BoardMember,
  PresenceEntry,
  Project,
  ProjectEvent,
  SubscriptionState,
  Task,
} from '@taskwire/client';
import { isTaskwireError } from '@taskwire/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isCommentEvent, type CommentFeed, type CommentSignal } from '../lib/comments';
import type { Client } from '../lib/session';

export interface BoardView {
  project: Project | null;
  members: BoardMember[];
  tasks: Task[];
  presence: PresenceEntry[];
  seq: number;
}

export interface BoardSnapshot {
  seq: number;
  tasks: ReadonlyMap<number, Task>;
  projectName: string | undefined;
}

export interface LiveBoardState {
  view: BoardView | null;
  state: SubscriptionState;
  /** Loading failed (403, 404, no network): the board is not live. */
  error: unknown;
  /** The latest snapshot (the first load, or a resync): what the activity panel starts from. */
  snapshot: BoardSnapshot | null;
  /** The events applied since the page opened, oldest first (at most 200). */
  events: ProjectEvent[];
  /** The project's comment_* events, in order, and resyncs. */
  comments: CommentFeed;
  retry(): void;
}

const byName = (a: { username: string }, b: { username: string }) => a.username.localeCompare(b.username);

/** Keeps the previous array when nothing in it changed, so memoized children skip rendering. */
function same<T>(prev: T[] | undefined, next: T[], eq: (a: T, b: T) => boolean): T[] {
  return prev && prev.length === next.length && prev.every((x, i) => eq(x, next[i]!)) ? prev : next;
}

function viewOf(b: Board, prev: BoardView | null): BoardView {
  const members = [...b.members.values()].sort((x, y) => byName(x.user, y.user));
  const presence = [...b.presence.values()].sort(byName);
  return {
    project: b.project,
    members: same(prev?.members, members, (x, y) => x.user_id === y.user_id && x.user.username === y.user.username),
    tasks: [...b.tasks.values()].sort((x, y) => x.id - y.id),
    presence: same(prev?.presence, presence, (x, y) => x.user_id === y.user_id && x.username === y.username),
    seq: b.seq,
  };
}

export function useLiveBoard(client: Client, projectId: number): LiveBoardState {
  const [attempt, setAttempt] = useState(0);
  const [view, setView] = useState<BoardView | null>(null);
  const [state, setState] = useState<SubscriptionState>('connecting');
  const [error, setError] = useState<unknown>(null);
  const [snapshot, setSnapshot] = useState<BoardSnapshot | null>(null);
  const [events, setEvents] = useState<ProjectEvent[]>([]);
  const [retryLive, setRetryLive] = useState<() => void>(() => () => {});
  const listeners = useRef(new Set<(s: CommentSignal) => void>());
  const comments = useMemo<CommentFeed>(
    () => ({
      subscribe(fn) {
        listeners.current.add(fn);
        return () => listeners.current.delete(fn);
      },
    }),
    [],
  );

  useEffect(() => {
    setView(null);
    setError(null);
    setSnapshot(null);
    setEvents([]);
    setState('connecting');
    let alive = true;
    const signal = (s: CommentSignal) => {
      for (const fn of listeners.current) fn(s);
    };
    const board = client.project(projectId).live();
    board.on('change', (b, change) => {
      if (!alive) return;
      setView((prev) => viewOf(b, prev));
      if (change.type === 'snapshot') {
        setSnapshot({ seq: b.seq, tasks: new Map(b.tasks), projectName: b.project?.name });
        setEvents([]);
        signal({ type: 'resync' });
      } else if (change.type === 'event') {
        const ev = change.event;
        setEvents((cur) => [...cur.slice(-199), ev]);
      }
    });
    board.on('state', (s) => {
      if (alive) setState(s);
    });
    board.ready.then(
      () => {
        if (!alive) return;
        setRetryLive(() => () => board.subscription?.retry());
        // Comment events: known to the client or not (a newer server), in order with the board's.
        const forward = (ev: { event: string }) => {
          if (alive && isCommentEvent(ev)) signal({ type: 'event', event: ev });
        };
        board.subscription?.on('event', forward);
        board.subscription?.on('unknown', forward);
      },
      (err: unknown) => {
        if (alive) {
          setError(err);
          // Refused (403, 404) is not a connection problem; no answer at all is.
          setState(isTaskwireError(err) ? 'closed' : 'offline');
        }
      },
    );
    return () => {
      alive = false;
      board.close();
    };
  }, [client, projectId, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const retry = error ? reload : retryLive;
  return { view, state, error, snapshot, events, comments, retry };
}
