/**
 * A task's comments, live: a REST read (with its X-Event-Seq), then the
 * board's comment events for this task after that seq; read again after a
 * resync. Writes put the server's answer in at once (its event changes
 * nothing when it follows).
 */
import type { Comment } from '@taskwire/client';
import { useCallback, useEffect, useReducer, useState } from 'preact/hooks';
import { commentsReducer, initialComments, type CommentFeed } from '../lib/comments';
import type { Client } from '../lib/session';

export interface Comments {
  comments: Comment[];
  loaded: boolean;
  /** The read failed (shown in place of the list, with a retry). */
  error: unknown;
  reload(): void;
  add(body: string): Promise<Comment>;
  edit(id: number, body: string): Promise<Comment>;
  remove(id: number): Promise<void>;
}

export function useComments(client: Client, taskId: number, feed: CommentFeed): Comments {
  const [state, dispatch] = useReducer(commentsReducer, initialComments);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(
    () =>
      feed.subscribe((signal) => {
        if (signal.type === 'resync') setAttempt((n) => n + 1);
        else if (signal.event.data.task_id === taskId) dispatch({ type: 'event', event: signal.event });
      }),
    [feed, taskId],
  );

  useEffect(() => {
    let alive = true;
    dispatch({ type: 'reloading' });
    setError(null);
    client.comments.list(taskId).then(
      (list) => alive && dispatch({ type: 'loaded', comments: list.comments, seq: list.seq }),
      (err: unknown) => alive && setError(err),
    );
    return () => {
      alive = false;
    };
  }, [client, taskId, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const add = useCallback(
    async (body: string) => {
      const c = await client.comments.create(taskId, { body });
      dispatch({ type: 'saved', comment: c });
      return c;
    },
    [client, taskId],
  );
  const edit = useCallback(
    async (id: number, body: string) => {
      const c = await client.comments.update(id, { body });
      dispatch({ type: 'saved', comment: c });
      return c;
    },
    [client],
  );
  const remove = useCallback(
    async (id: number) => {
      await client.comments.delete(id);
      dispatch({ type: 'removed', id });
    },
    [client],
  );

  return { comments: state.comments, loaded: state.seq !== null || state.comments.length > 0, error, reload, add, edit, remove };
}
