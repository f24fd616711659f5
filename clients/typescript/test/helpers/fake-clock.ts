import type { Clock, TimerHandle } from '../../src/index.js';

interface Timer {
  at: number;
  fn: () => void;
}

/** Lets pending promise chains (fake fetch answers, awaited handlers) run to quiescence. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock whose time only moves when a test says so. Timers fire in time
 * order (then creation order), with promise chains flushed between them, so
 * async code behaves as it would with real timers.
 */
export class FakeClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Delays (from now) of the timers still pending, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by ms, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const next = this.earliest();
      if (!next || next[1].at > end) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
    await flush();
  }

  /** Fires the soonest timer (moving time to it); returns its delay, or undefined when none. */
  async next(): Promise<number | undefined> {
    await flush();
    const next = this.earliest();
    if (!next) return undefined;
    const delay = next[1].at - this.t;
    await this.advance(delay);
    return delay;
  }

  private earliest(): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.timers) {
      if (!best || entry[1].at < best[1].at) best = entry;
    }
    return best;
  }
}
