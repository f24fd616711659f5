import { intHeader, type HttpRequest } from '../http.js';
import type { Comment, CommentInput, CommentListQuery } from '../types.js';
import { keyHeader, list, type CreateOptions, type RestContext } from './context.js';
import { nextOf, paginate } from './paginate.js';

export interface CommentList {
  /** Oldest first. */
  comments: Comment[];
  /** X-Event-Seq: the list reflects exactly the project's events up to this seq. */
  seq: number;
  next?: string;
}

export function commentsApi(ctx: RestContext) {
  const path = (taskId: number) => `/api/v1/tasks/${taskId}/comments`;
  return {
    /** `GET /api/v1/tasks/{id}/comments`, oldest first, with an optional page. */
    async list(taskId: number, query?: CommentListQuery): Promise<CommentList> {
      const res = await ctx.http.request<Comment[] | null>({ method: 'GET', path: path(taskId), query: { ...query }, retry: true });
      return { comments: list(res.body), seq: intHeader(res, 'X-Event-Seq'), ...nextOf(res) };
    },

    /** Every comment of a task (oldest first), page by page. */
    iterate(taskId: number, opts?: { limit?: number }): AsyncGenerator<Comment, void, undefined> {
      const first: HttpRequest = { method: 'GET', path: path(taskId), query: { limit: 100, ...opts }, retry: true };
      return paginate(ctx, first, (res) => list(res.body as Comment[] | null));
    },

    /**
     * `POST /api/v1/tasks/{id}/comments`: 201. `@username` of a member is a
     * mention (see `mentions`). Sends an Idempotency-Key and retries safely.
     */
    async create(taskId: number, input: CommentInput, opts?: CreateOptions): Promise<Comment> {
      const res = await ctx.http.request<Comment>({
        method: 'POST',
        path: path(taskId),
        json: input,
        headers: keyHeader(ctx, opts),
        retry: true,
      });
      return res.body;
    },

    /** `PATCH /api/v1/comments/{id}`: replaces the body (the author only, else 403: `isForbidden(err)`). */
    async update(commentId: number, input: CommentInput): Promise<Comment> {
      const res = await ctx.http.request<Comment>({ method: 'PATCH', path: `/api/v1/comments/${commentId}`, json: input });
      return res.body;
    },

    /** `DELETE /api/v1/comments/{id}`: 204 (the author or the project's owner). */
    async delete(commentId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: `/api/v1/comments/${commentId}` });
    },
  };
}

export type CommentsApi = ReturnType<typeof commentsApi>;
