import type { WebSocketConstructor, WebSocketLike } from '../../src/index.js';

type Msg = object | string;

/**
 * A scripted WebSocket: the test plays the server (`open`, `send`,
 * `serverClose`, `refuse`) and reads what the client did (`url`, `sent`,
 * `clientClose`).
 */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  readonly sent: string[] = [];
  clientClose: { code: number | undefined; reason: string | undefined } | undefined;

  constructor(readonly url: string) {}

  /** The URL's query parameters. */
  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }
  get since(): number | undefined {
    const s = this.query.get('since');
    return s === null ? undefined : Number(s);
  }
  get token(): string | null {
    return this.query.get('token');
  }
  get path(): string {
    return new URL(this.url).pathname;
  }
  /** Whether the client still listens to this socket. */
  get attached(): boolean {
    return this.onmessage !== null;
  }

  // --- the client's side ---
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    if (this.readyState === 3) return;
    this.clientClose = { code, reason };
    this.readyState = 3;
    const onclose = this.onclose;
    if (onclose) queueMicrotask(() => onclose({ code: code ?? 1005, reason: reason ?? '' }));
  }

  // --- the server's side ---
  open(): this {
    this.readyState = 1;
    this.onopen?.({ type: 'open' });
    return this;
  }
  /** Sends one text frame (objects are JSON-encoded). */
  deliver(msg: Msg): this {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
    return this;
  }
  sendAll(msgs: Msg[]): this {
    for (const m of msgs) this.deliver(m);
    return this;
  }
  caughtUp(seq: number): this {
    return this.deliver({ event: 'caught_up', seq });
  }
  heartbeat(seq: number): this {
    return this.deliver({ event: 'heartbeat', seq });
  }
  resync(seq: number): this {
    return this.deliver({ event: 'resync_required', seq });
  }
  /** The server closes an open socket. */
  serverClose(code: number, reason = ''): this {
    this.readyState = 3;
    this.onclose?.({ code, reason });
    return this;
  }
  /**
   * The handshake fails before open, as a browser reports it (error, then
   * close 1006); with a status, the error says it as the `ws` package does.
   */
  refuse(status?: number): this {
    this.onerror?.({ type: 'error', message: status === undefined ? 'connection failed' : `Unexpected server response: ${status}` });
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
    return this;
  }
}

/** Collects every FakeSocket the client opens; `WebSocket` is the constructor to inject. */
export class FakeSocketServer {
  readonly sockets: FakeSocket[] = [];
  readonly WebSocket: WebSocketConstructor;
  /** Runs on each new socket (e.g. to open it and send caught_up at once). */
  onConnect: ((socket: FakeSocket) => void) | undefined;

  constructor() {
    const server = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url);
        server.sockets.push(this);
        const hook = server.onConnect;
        if (hook) queueMicrotask(() => hook(this));
      }
    };
  }

  get count(): number {
    return this.sockets.length;
  }

  /** The newest socket; throws when none was opened. */
  get last(): FakeSocket {
    const s = this.sockets.at(-1);
    if (!s) throw new Error('no socket was opened');
    return s;
  }
}
