import { intHeader, type HttpRequest } from '../http.js';
import type { CreateTaskInput, Task, TaskListQuery, TaskStatus, UpdateTaskInput } from '../types.js';
import { keyHeader, list, type CreateOptions, type RestContext } from './context.js';
import { nextOf, paginate } from './paginate.js';

export interface TaskList {
  tasks: Task[];
  /** X-Event-Seq: the list reflects exactly the project's events up to this seq. */
  seq: number;
  next?: string;
}

export interface TaskDetails {
  task: Task;
  /** The strong ETag (`"<version>"`); send it back as `ifMatch`. */
  etag: string;
  seq: number;
}

export interface WriteOptions {
  /**
   * Only apply the change if the task is still at this version (a number,
   * or the ETag string). Otherwise the server answers 412: `isConflict(err)`.
   */
  ifMatch?: number | string;
}

/** The If-Match value for a version or an ETag (quoted as the server's strong ETags are). */
export function ifMatchValue(v: number | string): string {
  if (typeof v === 'number') return `"${v}"`;
  return /^(W\/)?".*"$/.test(v) || v === '*' ? v : `"${v}"`;
}

/** The ETag a task's version stands for. */
export function etagOf(task: Pick<Task, 'version'>): string {
  return `"${task.version}"`;
}

export type TaskFilter = Omit<TaskListQuery, 'limit' | 'cursor'>;

function ifMatchHeaders(opts: WriteOptions | undefined): Record<string, string> {
  return opts?.ifMatch === undefined ? {} : { 'If-Match': ifMatchValue(opts.ifMatch) };
}

export function tasksApi(ctx: RestContext) {
  const path = (projectId: number) => `/api/v1/projects/${projectId}/tasks`;
  return {
    /** `GET /api/v1/projects/{id}/tasks` by id, with filters and an optional page. */
    async list(projectId: number, query?: TaskListQuery): Promise<TaskList> {
      const res = await ctx.http.request<Task[] | null>({ method: 'GET', path: path(projectId), query: { ...query }, retry: true });
      return { tasks: list(res.body), seq: intHeader(res, 'X-Event-Seq'), ...nextOf(res) };
    },

    /** Every task of a project (filtered), page by page. */
    iterate(projectId: number, opts?: TaskFilter & { limit?: number }): AsyncGenerator<Task, void, undefined> {
      const first: HttpRequest = { method: 'GET', path: path(projectId), query: { limit: 100, ...opts }, retry: true };
      return paginate(ctx, first, (res) => list(res.body as Task[] | null));
    },

    /** `POST /api/v1/projects/{id}/tasks`: 201. Sends an Idempotency-Key and retries safely. */
    async create(projectId: number, input: CreateTaskInput, opts?: CreateOptions): Promise<Task> {
      const res = await ctx.http.request<Task>({
        method: 'POST',
        path: path(projectId),
        json: input,
        headers: keyHeader(ctx, opts),
        retry: true,
      });
      return res.body;
    },

    /** `GET /api/v1/tasks/{id}` with its ETag and X-Event-Seq. */
    async get(taskId: number): Promise<TaskDetails> {
      const res = await ctx.http.request<Task>({ method: 'GET', path: `/api/v1/tasks/${taskId}`, retry: true });
      return { task: res.body, etag: res.headers.get('etag') ?? etagOf(res.body), seq: intHeader(res, 'X-Event-Seq') };
    },

    /** `PUT /api/v1/tasks/{id}`: applies only the fields sent (`assignee_id: null` unassigns). */
    async update(taskId: number, patch: UpdateTaskInput, opts?: WriteOptions): Promise<Task> {
      const res = await ctx.http.request<Task>({
        method: 'PUT',
        path: `/api/v1/tasks/${taskId}`,
        json: patch,
        headers: ifMatchHeaders(opts),
      });
      return res.body;
    },

    /** `PATCH /api/v1/tasks/{id}/status`. */
    async setStatus(taskId: number, status: TaskStatus, opts?: WriteOptions): Promise<Task> {
      const res = await ctx.http.request<Task>({
        method: 'PATCH',
        path: `/api/v1/tasks/${taskId}/status`,
        json: { status },
        headers: ifMatchHeaders(opts),
      });
      return res.body;
    },

    /** `DELETE /api/v1/tasks/{id}`: 204. */
    async delete(taskId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: `/api/v1/tasks/${taskId}` });
    },
  };
}

export type TasksApi = ReturnType<typeof tasksApi>;
