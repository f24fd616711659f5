import type { Clock, TimerHandle } from '../clock.js';
import { isTaskwireError } from '../errors.js';
import type { Backoff } from './backoff.js';
import type { Lifecycle } from './lifecycle.js';
import { handshakeStatus, type WebSocketConstructor, type WebSocketLike } from './socket.js';

export type SubscriptionState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'revoked' | 'closed';

/** Why the state changed. */
export interface StateInfo {
  /** The close code that caused it. */
  code?: number;
  reason?: string;
  /** The HTTP status that refused a handshake (from the socket library or the REST probe). */
  status?: number;
  /** For `reconnecting`: the delay before the next try. */
  delayMs?: number;
}

export interface LoopOptions {
  WebSocket: WebSocketConstructor;
  clock: Clock;
  backoff: Backoff;
  /** The server's heartbeat interval; silence for twice this means a dead socket. */
  heartbeatMs: number;
  /** Live this long before the backoff attempt counter is reset. */
  stableMs: number;
  /** An opening handshake that takes longer is abandoned. */
  connectTimeoutMs: number;
  /** Consecutive failed tries before going `offline` (default: never). */
  maxAttempts: number | undefined;
  lifecycle: Lifecycle | undefined;
}

export interface LoopHooks {
  /** The socket URL with a current token and since. */
  url(): Promise<string>;
  message(text: string): void;
  /**
   * After a refused handshake: the stream's current seq read over REST.
   * A TaskwireError 403/404 means access is gone.
   */
  probe(): Promise<number>;
  /** The since the next socket will send. */
  cursor(): number | undefined;
  /** The server refused our since (it is ahead of the log): resync at `seq`. */
  cursorRejected(seq: number): void;
  refreshToken(): Promise<void>;
  state(state: SubscriptionState, info: StateInfo): void;
  error(kind: 'connection' | 'protocol' | 'auth', err: unknown, info?: StateInfo): void;
}

/** Close codes after which the client resumes (anything not listed elsewhere too). */
const closeCodes = { normal: 1000, protocol: 1008, tooBig: 1009, tokenExpired: 4401, revoked: 4403 } as const;

/** Our own close code for sockets the client gives up on (watchdog, gap). */
export const CLIENT_ABANDON = 4000;

/**
 * The connection state machine: one socket at a time, reconnects with
 * full-jitter backoff, close codes handled as asyncapi.yaml says, a
 * heartbeat watchdog, and wake-ups on `online` / page visible.
 *
 * Every socket gets a generation number; callbacks of an older one are
 * ignored, so a socket given up on can never deliver or trigger anything.
 */
export class SocketLoop {
  state: SubscriptionState = 'connecting';
  private gen = 0;
  /** Whether a socket ever got to caught_up: retries before that are `connecting`, after it `reconnecting`. */
  private wasLive = false;
  private ws: WebSocketLike | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private stableTimer: TimerHandle | undefined;
  private connectTimer: TimerHandle | undefined;
  private unsubscribeLifecycle: (() => void) | undefined;

  constructor(
    private readonly opts: LoopOptions,
    private readonly hooks: LoopHooks,
  ) {}

  get terminal(): boolean {
    return this.state === 'revoked' || this.state === 'closed';
  }

  start(): void {
    this.unsubscribeLifecycle = this.opts.lifecycle?.subscribe(() => this.wake());
    void this.connect();
  }

  /** caught_up arrived on the current socket. */
  markLive(): void {
    if (this.terminal || this.ws === undefined) return;
    this.wasLive = true;
    this.setState('live', {});
    this.clear('stableTimer');
    // Only a connection that stays up resets the backoff: accept-then-drop keeps growing it.
    this.stableTimer = this.opts.clock.setTimeout(() => this.opts.backoff.reset(), this.opts.stableMs);
  }

  /** Give up on the current socket (gap the log cannot fill, ...) and resume with since after backoff. */
  reconnect(reason: string): void {
    if (this.terminal) return;
    this.abandonSocket(reason);
    this.schedule({ reason });
  }

  /** Reconnect now instead of waiting (network back, page visible again). */
  wake(): void {
    if (this.state === 'offline') return this.retry();
    if (this.terminal || this.reconnectTimer === undefined) return;
    this.clear('reconnectTimer');
    void this.connect();
  }

  /** From `offline`: start again with a fresh attempt counter. */
  retry(): void {
    if (this.state !== 'offline') return;
    this.opts.backoff.reset();
    this.setState(this.retrying, {});
    void this.connect();
  }

  /** Ends the loop for good; closes the socket with 1000. */
  stop(state: 'revoked' | 'closed', info: StateInfo): void {
    if (this.terminal) return;
    this.abandonSocket('closed', closeCodes.normal);
    this.clear('reconnectTimer');
    this.unsubscribeLifecycle?.();
    this.unsubscribeLifecycle = undefined;
    this.setState(state, info);
  }

  private async connect(): Promise<void> {
    const gen = ++this.gen;
    let url: string;
    try {
      url = await this.hooks.url();
    } catch (err) {
      if (gen !== this.gen || this.terminal) return;
      this.hooks.error('auth', err);
      return this.schedule({ reason: 'no token' });
    }
    if (gen !== this.gen || this.terminal) return;
    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocket(url);
    } catch (err) {
      // Only a malformed URL makes the constructor throw: retrying cannot help.
      this.hooks.error('connection', err);
      return this.stop('closed', { reason: 'the WebSocket could not be created' });
    }
    this.ws = ws;
    let opened = false;
    let status: number | undefined;
    this.connectTimer = this.opts.clock.setTimeout(() => {
      if (gen !== this.gen) return;
      this.abandonSocket('connect timeout');
      this.schedule({ reason: 'connect timeout' });
    }, this.opts.connectTimeoutMs);
    ws.onopen = () => {
      if (gen !== this.gen) return;
      opened = true;
      this.clear('connectTimer');
      this.armWatchdog(gen);
    };
    ws.onmessage = (ev) => {
      if (gen !== this.gen) return;
      this.armWatchdog(gen);
      if (typeof ev.data !== 'string') return; // the server only sends text
      this.hooks.message(ev.data);
    };
    ws.onerror = (ev) => {
      status ??= handshakeStatus(ev);
    };
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.gen++;
      this.ws = undefined;
      this.clearSocketTimers();
      if (opened) this.closed(ev.code, ev.reason);
      else void this.refused(status);
    };
  }

  /** The open socket closed: what the code says to do. */
  private closed(code: number, reason: string): void {
    const info: StateInfo = { code, reason };
    switch (code) {
      case closeCodes.revoked:
        return this.stop('revoked', info);
      case closeCodes.protocol:
      case closeCodes.tooBig:
        this.hooks.error('protocol', new Error(`the server closed the socket with ${code} ${reason}`), info);
        return this.stop('closed', info);
      case closeCodes.normal:
        return this.stop('closed', info);
      case closeCodes.tokenExpired:
        this.setState(this.retrying, info);
        void this.hooks.refreshToken().then(
          () => this.schedule(info),
          (err: unknown) => {
            this.hooks.error('auth', err, info);
            this.schedule(info);
          },
        );
        return;
      default:
        // 1001, 1006, 1011, 4408 and anything unknown: resume with since.
        return this.schedule(info);
    }
  }

  /**
   * The handshake failed before open. Browsers do not say why, so ask the
   * REST API: 403/404 there means access is gone; a current seq below our
   * since means the since was refused (422); otherwise (429, network,
   * a token the probe just refreshed) back off and try again.
   */
  private async refused(status: number | undefined): Promise<void> {
    if (this.terminal) return;
    const info: StateInfo = status === undefined ? {} : { status };
    this.setState(this.retrying, info);
    if (status === 429) return this.schedule(info);
    const gen = this.gen;
    let current: number;
    try {
      current = await this.probeWithin(this.opts.connectTimeoutMs);
    } catch (err) {
      if (this.terminal || gen !== this.gen) return;
      if (isTaskwireError(err) && (err.status === 403 || err.status === 404)) {
        return this.stop('revoked', { status: err.status, reason: err.detail });
      }
      this.hooks.error(isTaskwireError(err) && err.status === 401 ? 'auth' : 'connection', err, info);
      return this.schedule(info);
    }
    if (this.terminal || gen !== this.gen) return;
    const cursor = this.hooks.cursor();
    if (status === 422 || (cursor !== undefined && cursor > current)) this.hooks.cursorRejected(current);
    this.schedule(info);
  }

  /**
   * The REST check, given up after `ms` like a handshake: a request sent on
   * a keep-alive connection that went silent (a half-open link) may never
   * be answered, and nothing else would ever schedule the next try.
   */
  private probeWithin(ms: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = this.opts.clock.setTimeout(() => reject(new Error(`the REST check did not answer within ${ms} ms`)), ms);
      this.hooks.probe().then(
        (seq) => {
          this.opts.clock.clearTimeout(timer);
          resolve(seq);
        },
        (err: unknown) => {
          this.opts.clock.clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private schedule(info: StateInfo & { reason?: string }): void {
    if (this.terminal) return;
    this.clear('reconnectTimer');
    const { maxAttempts } = this.opts;
    if (maxAttempts !== undefined && this.opts.backoff.attempt >= maxAttempts) {
      this.setState('offline', info);
      return;
    }
    const delayMs = this.opts.backoff.next();
    // Announced on every try, not only on change: a UI can show "retrying in N s".
    this.setState(this.retrying, { ...info, delayMs }, true);
    this.reconnectTimer = this.opts.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delayMs);
  }

  private armWatchdog(gen: number): void {
    this.clear('watchdog');
    this.watchdog = this.opts.clock.setTimeout(() => {
      if (gen !== this.gen) return;
      // No heartbeat for two intervals: the socket is dead even if TCP has not noticed.
      this.abandonSocket('heartbeat timeout');
      this.schedule({ reason: 'heartbeat timeout' });
    }, 2 * this.opts.heartbeatMs);
  }

  /** Forgets the current socket at once (its callbacks become stale) and closes it. */
  private abandonSocket(reason: string, code: number = CLIENT_ABANDON): void {
    this.gen++;
    const ws = this.ws;
    this.ws = undefined;
    this.clearSocketTimers();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Not null: the ws package emits 'error' when a connecting socket is closed,
    // and an EventEmitter 'error' without a listener would crash the process.
    ws.onerror = () => {};
    try {
      ws.close(code, reason);
    } catch {
      // Closing a socket that never opened may throw; it is gone either way.
    }
  }

  private clearSocketTimers(): void {
    this.clear('watchdog');
    this.clear('stableTimer');
    this.clear('connectTimer');
  }

  private clear(name: 'reconnectTimer' | 'watchdog' | 'stableTimer' | 'connectTimer'): void {
    const t = this[name];
    if (t !== undefined) this.opts.clock.clearTimeout(t);
    this[name] = undefined;
  }

  private get retrying(): 'connecting' | 'reconnecting' {
    return this.wasLive ? 'reconnecting' : 'connecting';
  }

  private setState(state: SubscriptionState, info: StateInfo, always = false): void {
    if (this.state === state && !always) return;
    this.state = state;
    this.hooks.state(state, info);
  }
}
