import { setImmediate as tick } from 'node:timers/promises';
import type {
  LiveBoard,
  NotificationSubscription,
  ProjectSubscription,
  StateInfo,
  SubscriptionError,
  SubscriptionState,
} from '../../../src/index.js';

/** A small seeded PRNG (mulberry32): runs replay with the same handler timings. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What every observed stream records besides its events. */
export class Health {
  readonly states: SubscriptionState[] = [];
  readonly errors: SubscriptionError[] = [];
  /** Reconnections because the heartbeat watchdog fired (a stall detected). */
  watchdog = 0;
  /** Times the stream went from live to reconnecting. */
  drops = 0;

  state(state: SubscriptionState, info: StateInfo & { reason?: string }): void {
    if (state === 'reconnecting' && this.states.at(-1) === 'live') this.drops++;
    if (info.reason === 'heartbeat timeout') this.watchdog++;
    this.states.push(state);
  }

  /** Errors the faults cannot explain: a handler that threw, a protocol violation. */
  get unexpected(): SubscriptionError[] {
    return this.errors.filter((e) => e.kind === 'handler' || e.kind === 'protocol');
  }

  /** States a healthy stream never reaches under network faults. */
  get terminal(): SubscriptionState[] {
    return this.states.filter((s) => s === 'revoked' || s === 'closed' || s === 'offline');
  }
}

/**
 * Watches one subscription: its handler records every seq it is given, and
 * sometimes awaits (a tick, or a few milliseconds), so later events queue
 * up behind a running handler; with `slowMs` every call takes that long.
 * After `closed()`, anything the subscription does (a handler starting, a
 * state change, an error) is recorded in `afterClose`: there must be none.
 */
export class StreamObserver {
  readonly seqs: number[] = [];
  /** Seqs whose handler ran to the end. */
  readonly completed: number[] = [];
  readonly health = new Health();
  readonly afterClose: string[] = [];
  /** A handler call is in progress. */
  running = false;
  private isClosed = false;

  constructor(
    readonly name: string,
    private readonly random: () => number,
    private readonly slowMs?: number,
  ) {}

  /** The handler to register (onEvent / onNotification). */
  readonly handle = async (item: { seq: number }): Promise<void> => {
    if (this.isClosed) this.afterClose.push(`handler started for seq ${item.seq}`);
    this.seqs.push(item.seq);
    this.running = true;
    const r = this.random();
    if (this.slowMs !== undefined) await sleep(this.slowMs);
    else if (r < 0.15) await tick();
    else if (r < 0.25) await sleep(Math.floor(this.random() * 8));
    this.running = false;
    this.completed.push(item.seq);
  };

  watch(sub: ProjectSubscription | NotificationSubscription): this {
    const s = sub as ProjectSubscription; // both kinds have the same state and error observers
    s.on('state', (state, info) => {
      if (this.isClosed) this.afterClose.push(`state ${state}`);
      this.health.state(state, info);
    });
    s.on('error', (err) => {
      if (this.isClosed) this.afterClose.push(`error ${err.message}`);
      this.health.errors.push(err);
    });
    return this;
  }

  /** Call right after the subscription's close(). */
  closed(): void {
    this.isClosed = true;
  }
}

/** Watches a live board: the seq of every event change it applied, in order. */
export class BoardObserver {
  readonly seqs: number[] = [];
  readonly health = new Health();
  /** The seq of the board's first snapshot. */
  startSeq = 0;
  readonly afterClose: string[] = [];
  private isClosed = false;

  constructor(readonly name: string) {}

  async watch(board: LiveBoard): Promise<this> {
    board.on('change', (_b, change) => {
      if (this.isClosed) this.afterClose.push(`change ${change.type}`);
      if (change.type === 'event') this.seqs.push(change.event.seq);
    });
    board.on('state', (state, info) => {
      if (this.isClosed) this.afterClose.push(`state ${state}`);
      this.health.state(state, info);
    });
    const b = await board.ready;
    this.startSeq = b.seq;
    board.subscription?.on('error', (err) => void this.health.errors.push(err));
    return this;
  }

  /** Call right after the board's close(). */
  closed(): void {
    this.isClosed = true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
