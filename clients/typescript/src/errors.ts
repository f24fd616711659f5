/** One entry of a 422 answer, in FastAPI's shape. */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The server answered with a non-2xx status. */
export class TaskwireError extends Error {
  override readonly name = 'TaskwireError';
  readonly status: number;
  /** The `detail` message; for a 422 the field messages joined. */
  readonly detail: string;
  /** The 422 list (empty for other statuses). */
  readonly fieldErrors: FieldError[];
  /** Seconds to wait, from `Retry-After` (429, 503). */
  readonly retryAfter?: number;
  /** From a 410 of the event log: the oldest seq still readable. */
  readonly oldestSeq?: number;
  /** The parsed body (or the raw text when it was not JSON). */
  readonly body: unknown;
  readonly method: string;
  readonly path: string;

  constructor(init: {
    status: number;
    detail: string;
    fieldErrors?: FieldError[];
    retryAfter?: number | undefined;
    oldestSeq?: number | undefined;
    body: unknown;
    method: string;
    path: string;
  }) {
    super(`${init.method} ${init.path}: ${init.status} ${init.detail}`);
    this.status = init.status;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? [];
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.oldestSeq !== undefined) this.oldestSeq = init.oldestSeq;
    this.body = init.body;
    this.method = init.method;
    this.path = init.path;
  }
}

/** The request never got an HTTP answer (connection refused, reset, DNS, CORS...). */
export class TaskwireNetworkError extends Error {
  override readonly name = 'TaskwireNetworkError';
  readonly method: string;
  readonly path: string;
  constructor(method: string, path: string, cause: unknown) {
    super(`${method} ${path}: network error: ${describe(cause)}`, { cause });
    this.method = method;
    this.path = path;
  }
}

/** The server answered 2xx but not with what the API promises (bad JSON, missing header). */
export class TaskwireProtocolError extends Error {
  override readonly name = 'TaskwireProtocolError';
}

export function isTaskwireError(err: unknown): err is TaskwireError {
  return err instanceof TaskwireError;
}
export function isNetworkError(err: unknown): err is TaskwireNetworkError {
  return err instanceof TaskwireNetworkError;
}
/** A 412: the task changed since the version sent in If-Match. Reload it and decide. */
export function isConflict(err: unknown): err is TaskwireError {
  return isTaskwireError(err) && err.status === 412;
}
export function isNotFound(err: unknown): err is TaskwireError {
  return isTaskwireError(err) && err.status === 404;
}
export function isForbidden(err: unknown): err is TaskwireError {
  return isTaskwireError(err) && err.status === 403;
}
/** A 410: the thing existed but is no longer valid (an invitation used, expired or revoked). */
export function isGone(err: unknown): err is TaskwireError {
  return isTaskwireError(err) && err.status === 410;
}
export function isRateLimited(err: unknown): err is TaskwireError {
  return isTaskwireError(err) && err.status === 429;
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** `Retry-After` is seconds or an HTTP date; we return seconds (never negative). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const secs = Number(value.trim());
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function isFieldError(x: unknown): x is FieldError {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return Array.isArray(o['loc']) && typeof o['msg'] === 'string';
}

/** Builds the typed error from a non-2xx answer's parsed body. */
export function errorFromBody(init: {
  status: number;
  body: unknown;
  retryAfter: number | undefined;
  method: string;
  path: string;
}): TaskwireError {
  const { status, body } = init;
  let detail = `HTTP ${status}`;
  let fieldErrors: FieldError[] = [];
  let oldestSeq: number | undefined;
  if (typeof body === 'object' && body !== null) {
    const o = body as Record<string, unknown>;
    const d = o['detail'];
    if (typeof d === 'string') detail = d;
    else if (Array.isArray(d)) {
      fieldErrors = d.filter(isFieldError).map((e) => ({ loc: e.loc, msg: e.msg, type: String(e.type ?? '') }));
      detail = fieldErrors.map((e) => `${e.loc.join('.')}: ${e.msg}`).join('; ') || detail;
    } else if (typeof o['error'] === 'string') detail = o['error'];
    if (typeof o['oldest_seq'] === 'number') oldestSeq = o['oldest_seq'];
  } else if (typeof body === 'string' && body.trim() !== '') {
    detail = body.trim().slice(0, 500);
  }
  return new TaskwireError({ ...init, detail, fieldErrors, oldestSeq });
}
