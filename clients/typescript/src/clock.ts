/**
 * Everything time-related in the client goes through a Clock, so tests can
 * drive reconnects, backoff and watchdogs with a fake one instead of waiting.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds, only used for differences. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

// The src build has no DOM or Node types (it runs on both): read the timer
// functions off globalThis through this narrow shape.
interface TimerGlobals {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const g = globalThis as unknown as TimerGlobals;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => g.setTimeout(fn, ms),
  clearTimeout: (handle) => g.clearTimeout(handle),
};

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
