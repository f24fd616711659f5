import type { Clock } from '../clock.js';
import type {
  Notification,
  PresenceMessage,
  ProjectEvent,
  ProjectEventOf,
  ProjectEventType,
  UnknownEvent,
} from '../events.js';
import { encodeQuery } from '../http.js';
import type { TokenStore } from '../tokens.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { Emitter, type AnyHandler } from './emitter.js';
import type { Lifecycle } from './lifecycle.js';
import { SocketLoop, type StateInfo, type SubscriptionState } from './loop.js';
import { classify, type Incoming } from './messages.js';
import { Sequencer, type DispatchResult, type Item } from './sequencer.js';
import { socketUrl, type WebSocketConstructor } from './socket.js';

export type { StateInfo, SubscriptionState };

type Awaitable = void | Promise<void>;

/** Reported through `on('error')`; the subscription carries on unless its state says otherwise. */
export class SubscriptionError extends Error {
  override readonly name = 'SubscriptionError';
  constructor(
    /** handler: a handler threw; protocol: 1008/1009 or an unreadable frame; auth: no usable token;
     *  connection: a refused handshake or probe failure; refill: a gap the log could not fill. */
    readonly kind: 'handler' | 'protocol' | 'auth' | 'connection' | 'refill',
    message: string,
    readonly info: StateInfo = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** Handlers every subscription has. */
export interface BaseSubscriptionEvents {
  /** Synchronous: every state change, with why. */
  state: (state: SubscriptionState, info: StateInfo) => void;
  /** Synchronous: something went wrong (see SubscriptionError.kind). */
  error: (error: SubscriptionError) => void;
  /** In order with the events: every event up to seq has been delivered. Once per connection. */
  caught_up: (seq: number) => Awaitable;
  /**
   * In order: the cursor was older than the retained log (or ahead of it).
   * Reload state over REST; return the seq the reloaded state reflects
   * (X-Event-Seq) if it is later than `seq`, so nothing is applied twice.
   */
  resync: (seq: number) => number | void | Promise<number | void>;
}

export type ProjectEventHandlers = { [K in ProjectEventType]: (event: ProjectEventOf<K>) => Awaitable };

export interface ProjectSubscriptionEvents extends BaseSubscriptionEvents, ProjectEventHandlers {
  /** Every log event of a known type. */
  event: (event: ProjectEvent) => Awaitable;
  /** A log event of a type newer than this client. */
  unknown: (event: UnknownEvent) => Awaitable;
  presence: (message: PresenceMessage) => Awaitable;
}

export interface NotificationSubscriptionEvents extends BaseSubscriptionEvents {
  notification: (notification: Notification) => Awaitable;
}

/** Connection policy of live streams. */
export interface LiveOptions extends BackoffOptions {
  /** Live this long before the backoff attempt counter resets (default 10 s). */
  stableMs: number;
  /** The server's WS_HEARTBEAT_INTERVAL (default 20 s): silence for twice this reconnects. */
  heartbeatMs: number;
  /** Abandon an opening handshake after this long (default 15 s). */
  connectTimeoutMs: number;
  /** Consecutive failed tries before `offline` (default: unbounded). */
  maxAttempts: number | undefined;
}

/** How one kind of stream is reached. */
export interface StreamSource {
  stream: 'project' | 'notifications';
  path: string;
  query: Record<string, string>;
  probe(): Promise<number>;
  refill?: (after: number, upTo: number) => Promise<Incoming[]>;
}

export interface SubscriptionDeps {
  baseUrl: string;
  tokens: TokenStore;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  random: () => number;
  live: LiveOptions;
  lifecycle: Lifecycle | undefined;
}

/**
 * A live stream: events reach handlers exactly once, in seq order, each
 * handler awaited before the next starts, across any number of reconnects.
 */
export class Subscription<M extends BaseSubscriptionEvents> {
  /** Resolves when the first caught_up is delivered (every event up to it handled). */
  readonly caughtUp: Promise<number>;
  /** The last error reported through `on('error')`. */
  lastError: SubscriptionError | undefined;
  private readonly emitter = new Emitter();
  private readonly sequencer: Sequencer;
  private readonly loop: SocketLoop;
  private stopped = false;
  private settleCaughtUp!: { resolve: (seq: number) => void; reject: (err: Error) => void; done: boolean };

  constructor(deps: SubscriptionDeps, source: StreamSource, cursor: number | undefined) {
    this.caughtUp = new Promise<number>((resolve, reject) => {
      this.settleCaughtUp = { resolve, reject, done: false };
    });
    // Awaiting it is optional: an unobserved rejection must not crash the process.
    this.caughtUp.catch(() => {});
    const refill = source.refill;
    this.sequencer = new Sequencer(
      {
        ...(refill ? { refill } : {}),
        dispatch: (item) => this.dispatch(item),
        broken: (reason) => {
          this.report('refill', `resuming from seq ${String(this.sequencer.position)}: ${describe(reason)}`, {}, reason);
          this.loop.reconnect('gap');
        },
      },
      cursor,
    );
    this.loop = new SocketLoop(
      {
        WebSocket: deps.WebSocket,
        clock: deps.clock,
        backoff: new Backoff(deps.live, deps.random),
        heartbeatMs: deps.live.heartbeatMs,
        stableMs: deps.live.stableMs,
        connectTimeoutMs: deps.live.connectTimeoutMs,
        maxAttempts: deps.live.maxAttempts,
        lifecycle: deps.lifecycle,
      },
      {
        url: async () => {
          const token = await deps.tokens.get();
          if (token === undefined) throw new Error('no access token: log in or pass token / getToken');
          const since = this.sequencer.position;
          const query = { token, ...source.query, ...(since === undefined ? {} : { since: String(since) }) };
          return socketUrl(deps.baseUrl, source.path, encodeQuery(query));
        },
        message: (text) => this.onMessage(text, source.stream),
        probe: () => source.probe(),
        cursor: () => this.sequencer.position,
        cursorRejected: (seq) => this.sequencer.resyncTo(seq),
        refreshToken: async () => {
          await deps.tokens.refresh();
        },
        state: (state, info) => this.onState(state, info),
        error: (kind, err, info) => this.report(kind, describe(err), info ?? {}, err),
      },
    );
    this.loop.start();
  }

  get state(): SubscriptionState {
    return this.loop.state;
  }

  /** The seq of the last event whose handlers all finished: resume from here (`cursor`). */
  get lastSeq(): number | undefined {
    return this.sequencer.lastSeq;
  }

  /**
   * Adds a handler; returns the function that removes it. Log events,
   * presence, resync and caught_up handlers run one at a time in stream
   * order and are awaited; state and error observers are called at once.
   */
  on<K extends keyof M & string>(type: K, handler: M[K]): () => void {
    return this.emitter.on(type, handler as AnyHandler);
  }

  /** Stops for good. Nothing is delivered after this, not even what is buffered; a running handler finishes. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.sequencer.stop();
    this.loop.stop('closed', { reason: 'closed by the application' });
  }

  /** From `offline`: try again now with a fresh backoff. */
  retry(): void {
    this.loop.retry();
  }

  /** Drop the current socket and resume with since (after the usual backoff). */
  reconnect(): void {
    this.loop.reconnect('requested');
  }

  private onMessage(text: string, stream: StreamSource['stream']): void {
    let inc: Incoming | undefined;
    try {
      inc = classify(text, stream);
    } catch (err) {
      this.report('protocol', `unreadable message: ${describe(err)}`, {}, err);
      return;
    }
    if (!inc) return;
    if (inc.kind === 'caught_up') this.loop.markLive();
    this.sequencer.accept(inc);
  }

  private async dispatch(item: Item): Promise<DispatchResult> {
    const [names, arg] = route(item);
    const handlers = names.flatMap((n) => this.emitter.list(n));
    let seq: number | undefined;
    for (const handler of handlers) {
      if (this.stopped) return { done: false };
      try {
        const r = await handler(arg);
        if (item.kind === 'resync' && typeof r === 'number') seq = Math.max(seq ?? r, r);
      } catch (err) {
        this.report('handler', `a ${names.join('/')} handler threw: ${describe(err)}`, {}, err);
      }
    }
    if (item.kind === 'caught_up' && !this.settleCaughtUp.done) {
      this.settleCaughtUp.done = true;
      this.settleCaughtUp.resolve(item.seq);
    }
    return seq === undefined ? { done: true } : { done: true, seq };
  }

  private onState(state: SubscriptionState, info: StateInfo): void {
    if ((state === 'revoked' || state === 'closed') && !this.settleCaughtUp.done) {
      this.settleCaughtUp.done = true;
      this.settleCaughtUp.reject(new Error(`subscription ${state} before catching up`));
    }
    this.emitter.emitSync('state', state, info);
  }

  private report(kind: SubscriptionError['kind'], message: string, info: StateInfo, cause: unknown): void {
    const err = new SubscriptionError(kind, message, info, cause);
    this.lastError = err;
    this.emitter.emitSync('error', err);
  }
}

function route(item: Item): [string[], unknown] {
  switch (item.kind) {
    case 'event':
      return [item.names, item.msg];
    case 'presence':
      return [['presence'], item.msg];
    case 'resync':
      return [['resync'], item.seq];
    case 'caught_up':
      return [['caught_up'], item.seq];
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type ProjectSubscription = Subscription<ProjectSubscriptionEvents>;
export type NotificationSubscription = Subscription<NotificationSubscriptionEvents>;
