import type { Incoming } from './messages.js';

/** What the delivery queue holds, in the order handlers must see it. */
export type Item =
  | { kind: 'event'; seq: number; msg: unknown; names: string[] }
  | { kind: 'presence'; msg: unknown }
  | { kind: 'resync'; seq: number }
  | { kind: 'caught_up'; seq: number; adopt: boolean };

export interface DispatchResult {
  /** Every handler of the item ran (false when close() cut the item short). */
  done: boolean;
  /** For a resync: the seq the application's reloaded state reflects, if it said. */
  seq?: number;
}

export interface SequencerHooks {
  /**
   * Events after `after`, oldest first, reaching at least `upTo` when the log
   * has them. Without it a gap is repaired by reconnecting with since.
   */
  refill?: (after: number, upTo: number) => Promise<Incoming[]>;
  /** Runs the item's handlers, one at a time, awaiting each. */
  dispatch: (item: Item) => Promise<DispatchResult>;
  /** The stream cannot go on in order from this socket: reconnect with since = position. */
  broken: (reason: unknown) => void;
}

/**
 * Turns socket messages, which may repeat or skip, into one in-order,
 * exactly-once stream of handler calls.
 *
 * - `position`: the highest seq taken in order (delivered or queued); the
 *   socket resumes with `since=position`.
 * - `lastSeq`: the highest seq whose handlers all finished (the cursor an
 *   application persists). It only moves when a delivery completes.
 *
 * A message at or below `position` is a duplicate and dropped. One above
 * `position + 1` (or a heartbeat / caught_up announcing more than we have)
 * is never delivered across: the missing range is first read from the log
 * (`refill`) while everything arriving meanwhile is held in arrival order;
 * if the log cannot fill it, the socket is reconnected with since instead.
 */
export class Sequencer {
  lastSeq: number | undefined;
  position: number | undefined;
  private queue: Item[] = [];
  private held: Incoming[] | null = null;
  private refillGen = 0;
  private pumping = false;
  private stopped = false;

  constructor(
    private readonly hooks: SequencerHooks,
    cursor: number | undefined,
    private readonly maxHeld = 10_000,
  ) {
    this.lastSeq = cursor;
    this.position = cursor;
  }

  /** Items waiting for their handlers. */
  get queued(): number {
    return this.queue.length;
  }

  get refilling(): boolean {
    return this.held !== null;
  }

  accept(inc: Incoming): void {
    if (this.stopped) return;
    if (this.held) {
      this.held.push(inc);
      if (this.held.length > this.maxHeld) this.abandon(new Error('too many messages arrived during a refill'));
      return;
    }
    switch (inc.kind) {
      case 'event':
        return this.acceptEvent(inc);
      case 'caught_up':
        if (this.position === undefined) {
          // No cursor: the stream starts here.
          this.position = inc.seq;
          return this.enqueue({ kind: 'caught_up', seq: inc.seq, adopt: true });
        }
        if (inc.seq > this.position) return this.refill(inc.seq, inc);
        return this.enqueue({ kind: 'caught_up', seq: inc.seq, adopt: false });
      case 'heartbeat':
        // Everything up to seq was sent before it: more than we have means we missed some.
        if (this.position !== undefined && inc.seq > this.position) this.refill(inc.seq, inc);
        return;
      case 'resync':
        this.position = Math.max(this.position ?? inc.seq, inc.seq);
        return this.enqueue({ kind: 'resync', seq: inc.seq });
      case 'presence':
        return this.enqueue({ kind: 'presence', msg: inc.msg });
    }
  }

  /**
   * The server refused our cursor (ahead of its log: another database, a
   * restore). Start over at `seq` with a resync, as if it sent resync_required.
   */
  resyncTo(seq: number): void {
    if (this.stopped) return;
    this.held = null;
    this.refillGen++;
    this.position = seq;
    this.enqueue({ kind: 'resync', seq });
  }

  /** Nothing more is delivered, not even what is queued; a handler running now finishes. */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.held = null;
    this.refillGen++;
  }

  private acceptEvent(inc: Extract<Incoming, { kind: 'event' }>): void {
    // Without a cursor the first event fixes where the stream starts.
    if (this.position === undefined) this.position = inc.seq - 1;
    if (inc.seq <= this.position) return;
    if (inc.seq === this.position + 1) {
      this.position = inc.seq;
      this.enqueue(inc);
      return;
    }
    this.refill(inc.seq - 1, inc);
  }

  /** Reads (position, upTo] from the log, holding `trigger` and all that follows. */
  private refill(upTo: number, trigger: Incoming): void {
    const from = this.position ?? 0;
    this.held = [trigger];
    const gen = ++this.refillGen;
    const refill = this.hooks.refill;
    if (!refill) {
      this.abandon(new Error(`missed events after seq ${from}`));
      return;
    }
    refill(from, upTo).then(
      (events) => this.refilled(gen, events, upTo),
      (err: unknown) => {
        if (gen === this.refillGen && !this.stopped) this.abandon(err);
      },
    );
  }

  private refilled(gen: number, events: Incoming[], upTo: number): void {
    if (gen !== this.refillGen || this.stopped) return;
    const pending = this.held ?? [];
    this.held = null;
    for (const ev of events) {
      if (ev.kind !== 'event' || this.position === undefined) continue;
      if (ev.seq <= this.position) continue;
      if (ev.seq !== this.position + 1) break;
      this.position = ev.seq;
      this.enqueue(ev);
    }
    if ((this.position ?? 0) < upTo) {
      this.abandon(new Error(`the log has no events up to seq ${upTo} (got to ${String(this.position)})`));
      return;
    }
    // What arrived meanwhile, in arrival order; it may start another refill.
    for (const inc of pending) this.accept(inc);
  }

  /** Drops what is held (the server will send it again) and asks for a reconnect. */
  private abandon(reason: unknown): void {
    this.held = null;
    this.refillGen++;
    this.hooks.broken(reason);
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    if (this.pumping) return;
    this.pumping = true;
    // Handlers start on a microtask, never inside the socket callback that queued them.
    void Promise.resolve().then(() => this.pump());
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped) {
        const item = this.queue.shift();
        if (!item) break;
        await this.deliver(item);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async deliver(item: Item): Promise<void> {
    switch (item.kind) {
      case 'event': {
        if (this.lastSeq !== undefined && item.seq <= this.lastSeq) return;
        const r = await this.hooks.dispatch(item);
        if (r.done) this.lastSeq = item.seq;
        return;
      }
      case 'resync': {
        const r = await this.hooks.dispatch(item);
        if (!r.done) return;
        // The application reloaded: its state is at item.seq, or later if it said so.
        const seq = Math.max(item.seq, r.seq ?? item.seq);
        this.lastSeq = seq;
        if (!this.stopped && (this.position === undefined || this.position < seq)) this.position = seq;
        return;
      }
      case 'caught_up':
        if (item.adopt && this.lastSeq === undefined) this.lastSeq = item.seq;
        await this.hooks.dispatch(item);
        return;
      case 'presence':
        await this.hooks.dispatch(item);
        return;
    }
  }
}
