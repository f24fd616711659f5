/**
 * Signals that the network is probably back: the browser's `online` event
 * and the page becoming visible again (a laptop waking up). A waiting
 * reconnect then happens at once instead of after its backoff delay.
 */
export interface Lifecycle {
  /** Calls `wake` on each such signal; returns the unsubscribe function. */
  subscribe(wake: () => void): () => void;
}

interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/** The browser's signals, or undefined where there are none (Node). */
export function browserLifecycle(): Lifecycle | undefined {
  const g = globalThis as unknown as Partial<EventTargetLike> & {
    document?: Partial<EventTargetLike> & { visibilityState?: string };
  };
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return undefined;
  const win = g as EventTargetLike;
  const doc = typeof g.document?.addEventListener === 'function' ? (g.document as EventTargetLike & { visibilityState?: string }) : undefined;
  return {
    subscribe(wake) {
      const onOnline = () => wake();
      const onVisible = () => {
        if (doc?.visibilityState === 'visible') wake();
      };
      win.addEventListener('online', onOnline);
      doc?.addEventListener('visibilitychange', onVisible);
      return () => {
        win.removeEventListener('online', onOnline);
        doc?.removeEventListener('visibilitychange', onVisible);
      };
    },
  };
}
