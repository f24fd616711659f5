/** Reconnect timing. */
export interface BackoffOptions {
  /** First ceiling of the full-jitter window (default 250 ms). */
  baseMs: number;
  /** Largest ceiling (default 30 s). */
  capMs: number;
  /** Floor of every delay (default 100 ms): never a zero-delay loop, even when random() is 0. */
  minMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 250, capMs: 30_000, minMs: 100 };

/**
 * Full-jitter exponential backoff: the n-th delay (from 0) is uniform in
 * [minMs, max(minMs, min(capMs, baseMs * 2^n))). The attempt counter is
 * only reset by the caller, after a connection stayed live long enough, so
 * a server that accepts and drops at once still sees growing delays.
 */
export class Backoff {
  private n = 0;
  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** Delays handed out since the last reset. */
  get attempt(): number {
    return this.n;
  }

  /** The ceiling of the n-th delay. */
  ceiling(n: number): number {
    // 2^n is capped well before it overflows.
    return Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(n, 40));
  }

  next(): number {
    const ceil = this.ceiling(this.n);
    this.n++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.max(this.opts.minMs, Math.floor(r * ceil));
  }

  reset(): void {
    this.n = 0;
  }
}
