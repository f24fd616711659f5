import type { Http } from '../http.js';
import type { TokenStore } from '../tokens.js';

/** What every REST group needs. */
export interface RestContext {
  http: Http;
  tokens: TokenStore;
  /** Makes an Idempotency-Key for a create (crypto.randomUUID by default). */
  newKey: () => string;
}

/** Options of a create (project, task, member). */
export interface CreateOptions {
  /**
   * The Idempotency-Key to send. By default one is made per call; the
   * client's own retries of that call (after a network error or a 5xx)
   * reuse it, so the server creates at most one.
   */
  idempotencyKey?: string;
}

export function keyHeader(ctx: RestContext, opts: CreateOptions | undefined): Record<string, string> {
  return { 'Idempotency-Key': opts?.idempotencyKey ?? ctx.newKey() };
}

/** Lists come back as a JSON array, or null for none. */
export function list<T>(body: T[] | null | undefined): T[] {
  return body ?? [];
}
