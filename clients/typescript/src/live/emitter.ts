// Handlers are stored untyped; the public `on` methods type them per event name.
export type AnyHandler = (...args: any[]) => unknown;

/** A minimal multi-handler registry, in registration order. */
export class Emitter {
  private readonly handlers = new Map<string, AnyHandler[]>();

  on(type: string, handler: AnyHandler): () => void {
    const list = this.handlers.get(type) ?? [];
    this.handlers.set(type, [...list, handler]);
    return () => {
      const now = this.handlers.get(type) ?? [];
      this.handlers.set(
        type,
        now.filter((h) => h !== handler),
      );
    };
  }

  /** A copy: a handler (un)registering others does not change the current dispatch. */
  list(type: string): AnyHandler[] {
    return this.handlers.get(type) ?? [];
  }

  /** Calls synchronous observers (state, error); their exceptions are dropped, never break the client. */
  emitSync(type: string, ...args: unknown[]): void {
    for (const h of this.list(type)) {
      try {
        const r = h(...args);
        if (r instanceof Promise) r.catch(() => {});
      } catch {
        // An observer's failure must not break the connection state machine.
      }
    }
  }
}
