/**
 * A task's comments kept from a REST read (watermarked with X-Event-Seq)
 * and the project's comment_* events after it: each event applied once,
 * in seq order, whenever it arrives relative to the read.
 */
import type { Comment } from '@taskwire/client';

export type CommentEvent =
  | { event: 'comment_added' | 'comment_updated'; seq: number; data: Comment }
  | { event: 'comment_deleted'; seq: number; data: { id: number; task_id: number; project_id: number } };

/** What the board's socket tells the comment views: an event, or that events may have been missed. */
export type CommentSignal = { type: 'event'; event: CommentEvent } | { type: 'resync' };

export interface CommentFeed {
  subscribe(fn: (signal: CommentSignal) => void): () => void;
}

export function isCommentEvent(ev: { event: string }): ev is CommentEvent {
  return ev.event === 'comment_added' || ev.event === 'comment_updated' || ev.event === 'comment_deleted';
}

export interface CommentsState {
  /** Oldest first. */
  comments: Comment[];
  /** The seq the list reflects; null until the first read. */
  seq: number | null;
  /** Events that arrived before the read, applied once it is in. */
  early: CommentEvent[];
  /** Ids deleted while the page looked: a late answer to a write does not bring one back. */
  gone: ReadonlySet<number>;
}

export type CommentsAction =
  /** A new read is under way: hold the events until it is in (the list shown stays). */
  | { type: 'reloading' }
  | { type: 'loaded'; comments: Comment[]; seq: number }
  | { type: 'event'; event: CommentEvent }
  /** The server's answer to this page's own write (the event follows; it changes nothing then). */
  | { type: 'saved'; comment: Comment }
  | { type: 'removed'; id: number };

export const initialComments: CommentsState = { comments: [], seq: null, early: [], gone: new Set() };

const order = (a: Comment, b: Comment) => a.created_at.localeCompare(b.created_at) || a.id - b.id;

function upsert(list: Comment[], c: Comment): Comment[] {
  const i = list.findIndex((x) => x.id === c.id);
  if (i < 0) return [...list, c].sort(order);
  // An older copy never replaces a newer one (the write's answer and its event may cross).
  if (list[i]!.updated_at > c.updated_at) return list;
  const next = list.slice();
  next[i] = c;
  return next;
}

function apply(s: CommentsState, ev: CommentEvent): CommentsState {
  if (ev.event !== 'comment_deleted') return { ...s, comments: upsert(s.comments, ev.data) };
  return { ...s, comments: s.comments.filter((c) => c.id !== ev.data.id), gone: new Set(s.gone).add(ev.data.id) };
}

export function commentsReducer(s: CommentsState, a: CommentsAction): CommentsState {
  switch (a.type) {
    case 'reloading':
      return { ...s, seq: null, early: [] };
    case 'loaded': {
      let next: CommentsState = { comments: [...a.comments].sort(order), seq: a.seq, early: [], gone: s.gone };
      for (const ev of s.early) if (ev.seq > a.seq) next = { ...apply(next, ev), seq: ev.seq };
      return next;
    }
    case 'event':
      if (s.seq === null) return { ...s, early: [...s.early, a.event] };
      if (a.event.seq <= s.seq) return s;
      return { ...apply(s, a.event), seq: a.event.seq };
    case 'saved':
      return s.gone.has(a.comment.id) ? s : { ...s, comments: upsert(s.comments, a.comment) };
    case 'removed':
      return { ...s, comments: s.comments.filter((c) => c.id !== a.id), gone: new Set(s.gone).add(a.id) };
  }
}
