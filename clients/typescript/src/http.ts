import { sleep, type Clock } from './clock.js';
import {
  TaskwireError,
  TaskwireNetworkError,
  TaskwireProtocolError,
  errorFromBody,
  parseRetryAfter,
} from './errors.js';
import type { TokenStore } from './tokens.js';

/** The part of a fetch Response the client reads. */
export interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The part of `fetch` the client calls; the platform's fetch fits. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<ResponseLike>;

export interface RetryOptions {
  /** Tries in all for a retryable request (GETs and creates), at least 1. */
  attempts: number;
  /** Full-jitter backoff between tries: random in [0, min(capMs, baseMs * 2^n)]. */
  baseMs: number;
  capMs: number;
}

export const defaultRetry: RetryOptions = { attempts: 3, baseMs: 200, capMs: 2000 };

/** Query parameters; an array repeats its name once per value (`?label=a&label=b`). */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the base URL (`/api/v1/...`), or an absolute URL from a Link header. */
  path: string;
  query?: Query;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /**
   * Retry after a network error or a 5xx. Only for requests that are safe
   * to repeat: reads, and creates that carry an Idempotency-Key.
   */
  retry?: boolean;
}

export interface HttpResponse<T> {
  status: number;
  headers: { get(name: string): string | null };
  body: T;
}

export interface HttpConfig {
  baseUrl: string;
  fetch: FetchLike;
  tokens: TokenStore;
  clock: Clock;
  random: () => number;
  retry: RetryOptions;
}

const retryableStatus = new Set([500, 502, 503, 504]);

export class Http {
  readonly baseUrl: string;
  constructor(private readonly cfg: HttpConfig) {
    this.baseUrl = cfg.baseUrl.replace(/\/+$/, '');
  }

  /** The full URL of a path (`/api/...`) or of a Link target. */
  url(path: string, query?: Query): string {
    const base = /^https?:\/\//i.test(path) ? path : this.baseUrl + path;
    const qs = encodeQuery(query);
    if (qs === '') return base;
    return base + (base.includes('?') ? '&' : '?') + qs;
  }

  async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const attempts = req.retry ? Math.max(1, this.cfg.retry.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(req);
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err)) throw err;
        const ceil = Math.min(this.cfg.retry.capMs, this.cfg.retry.baseMs * 2 ** (attempt - 1));
        await sleep(this.cfg.clock, Math.floor(this.cfg.random() * ceil));
      }
    }
  }

  /** One try, plus one repeat with a fresh token after a 401. */
  private async once<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const auth = req.auth ?? true;
    let token = auth ? await this.cfg.tokens.get() : undefined;
    let res = await this.send(req, token);
    if (res.status === 401 && auth && this.cfg.tokens.canRefresh) {
      const fresh = await this.cfg.tokens.refresh();
      if (fresh !== undefined && fresh !== token) {
        token = fresh;
        res = await this.send(req, token);
      }
    }
    return this.read<T>(req, res);
  }

  private async send(req: HttpRequest, token: string | undefined): Promise<ResponseLike> {
    const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = encodeQuery(req.form);
    }
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    const init: { method: string; headers: Record<string, string>; body?: string } = { method: req.method, headers };
    if (body !== undefined) init.body = body;
    try {
      return await this.cfg.fetch(this.url(req.path, req.query), init);
    } catch (err) {
      throw new TaskwireNetworkError(req.method, req.path, err);
    }
  }

  private async read<T>(req: HttpRequest, res: ResponseLike): Promise<HttpResponse<T>> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      // The connection died while the body was streaming.
      throw new TaskwireNetworkError(req.method, req.path, err);
    }
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.status >= 200 && res.status < 300) {
          throw new TaskwireProtocolError(`${req.method} ${req.path}: the answer is not JSON`);
        }
        body = text;
      }
    }
    if (res.status < 200 || res.status >= 300) {
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      throw errorFromBody({ status: res.status, body, retryAfter, method: req.method, path: req.path });
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }
}

function isRetryable(err: unknown): boolean {
  if (err instanceof TaskwireNetworkError) return true;
  return err instanceof TaskwireError && retryableStatus.has(err.status);
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(one))}`);
  }
  return parts.join('&');
}

/** The target of `rel="next"` in a Link header, if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (!m) continue;
    const params = m[2] ?? '';
    if (/(^|;)\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) return m[1];
  }
  return undefined;
}

/** Reads an integer header such as X-Event-Seq; throws when the server left it out. */
export function intHeader(res: HttpResponse<unknown>, name: string): number {
  const raw = res.headers.get(name);
  const n = raw === null ? NaN : Number(raw);
  if (!Number.isSafeInteger(n)) {
    throw new TaskwireProtocolError(`the answer has no valid ${name} header (got ${String(raw)})`);
  }
  return n;
}

/** A fresh Idempotency-Key: crypto.randomUUID where the platform has it. */
export function randomKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  // Non-secure browser contexts lack randomUUID; uniqueness is all we need here.
  const hex = (n: number) => Math.floor(Math.random() * 16 ** n).toString(16).padStart(n, '0');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + Math.floor(Math.random() * 4)).toString(16)}${hex(3)}-${hex(12)}`;
}
