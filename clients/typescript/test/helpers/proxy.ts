import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** up: client → server; down: server → client. */
export type Direction = 'up' | 'down' | 'both';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface ProxyStats {
  /** Connections accepted since the start. */
  accepted: number;
  /** Connections open now (either side). */
  open: number;
  /** Connections whose upstream could not be reached (reset towards the client). */
  refused: number;
}

type Ending = 'end' | 'reset';

/**
 * One direction of a connection. While `open`, bytes and the source's end
 * (FIN, or RST) go straight through; while closed (a stall), they are held,
 * in order, and released by `setOpen(true)`: neither side sees anything
 * happen, as on a link that silently stopped carrying packets.
 */
class Pipe {
  private held: Buffer[] = [];
  private ending: Ending | undefined;
  private done = false;

  constructor(
    private readonly dst: Socket,
    private open: boolean,
  ) {}

  data(chunk: Buffer): void {
    if (this.done) return;
    if (this.open) this.write(chunk);
    else this.held.push(chunk);
  }

  /** The source ended (FIN) or was reset / failed (RST). A reset wins over an end. */
  finish(how: Ending): void {
    if (this.done) return;
    if (this.ending !== 'reset') this.ending = how;
    if (this.open) this.release();
  }

  setOpen(open: boolean): void {
    this.open = open;
    if (open) this.release();
  }

  /** Forget everything held: the connection is being cut. */
  drop(): void {
    this.done = true;
    this.held = [];
  }

  private release(): void {
    for (const chunk of this.held) this.write(chunk);
    this.held = [];
    const how = this.ending;
    if (how === undefined) return;
    this.done = true;
    if (this.dst.destroyed) return;
    if (how === 'end') this.dst.end();
    else this.dst.resetAndDestroy();
  }

  private write(chunk: Buffer): void {
    if (!this.dst.destroyed && this.dst.writable) this.dst.write(chunk);
  }
}

/** A client connection and its upstream. */
class Link {
  readonly up: Pipe;
  readonly down: Pipe;

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    stalled: { up: boolean; down: boolean },
    onRefused: () => void,
    onGone: (link: Link) => void,
  ) {
    this.up = new Pipe(server, !stalled.up);
    this.down = new Pipe(client, !stalled.down);
    let connected = false;
    server.once('connect', () => (connected = true));
    client.on('data', (c: Buffer) => this.up.data(c));
    server.on('data', (c: Buffer) => this.down.data(c));
    client.on('end', () => this.up.finish('end'));
    server.on('end', () => this.down.finish('end'));
    // An error is a reset (ECONNRESET, EPIPE) or, upstream, a refused
    // connection: the other side is reset, as through a real middlebox.
    client.on('error', () => this.up.finish('reset'));
    server.on('error', () => {
      if (!connected) onRefused();
      this.down.finish('reset');
    });
    let closed = 0;
    const gone = () => {
      if (++closed === 2) onGone(this);
    };
    client.once('close', gone);
    server.once('close', gone);
  }

  stall(dir: { up: boolean; down: boolean }): void {
    this.up.setOpen(!dir.up);
    this.down.setOpen(!dir.down);
  }

  cut(how: 'rst' | 'fin'): void {
    this.up.drop();
    this.down.drop();
    for (const s of [this.client, this.server]) {
      if (s.destroyed) continue;
      if (how === 'rst') {
        s.resetAndDestroy();
      } else {
        s.end();
        // A peer that never answers our FIN must not keep the link forever.
        setTimeout(() => s.destroy(), 2_000).unref();
      }
    }
  }
}

/**
 * A TCP fault proxy for tests: listens on 127.0.0.1:0 and forwards every
 * connection to the current target. It can cut every open connection (RST
 * or FIN), stall them (stop forwarding in one or both directions, keeping
 * them open: a half-open link only a heartbeat watchdog detects), pass
 * again, and switch the target of new connections (another instance).
 * Connections accepted during a stall are stalled too.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  /** Black-holed connections: silent forever, outside `links` so `pass()` never wakes them. */
  private readonly lost = new Set<Link>();
  private stalled = { up: false, down: false };
  private counts = { accepted: 0, refused: 0 };

  private constructor(
    private target: ProxyTarget,
    server: Server,
  ) {
    this.server = server;
  }

  /** Starts a proxy in front of `target` (a port on 127.0.0.1, or host and port). */
  static async start(target: ProxyTarget | number): Promise<FaultProxy> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const proxy = new FaultProxy(typeof target === 'number' ? { host: '127.0.0.1', port: target } : target, server);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** http://127.0.0.1:PORT, to use as a client's baseUrl. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get stats(): ProxyStats {
    return { ...this.counts, open: this.links.size + this.lost.size };
  }

  get isStalled(): boolean {
    return this.stalled.up || this.stalled.down;
  }

  /** New connections go to `target` from now on (open ones stay where they are: cut them to move them). */
  setTarget(target: ProxyTarget | number): void {
    this.target = typeof target === 'number' ? { host: '127.0.0.1', port: target } : target;
  }

  /** Ends every open connection at once (black-holed ones too): with RST (default) or FIN, both ways. */
  cut(how: 'rst' | 'fin' = 'rst'): number {
    const n = this.links.size;
    for (const link of [...this.links, ...this.lost]) link.cut(how);
    this.links.clear();
    this.lost.clear();
    return n;
  }

  /** Stops forwarding (held, not lost) in `dir` on every connection, open and new, until `pass()`. */
  stall(dir: Direction = 'both'): void {
    this.stalled = { up: dir !== 'down', down: dir !== 'up' };
    for (const link of this.links) link.stall(this.stalled);
  }

  /** Forwards again: what was held is delivered, in order, then any end or reset that came meanwhile. */
  pass(): void {
    this.stalled = { up: false, down: false };
    for (const link of this.links) link.stall(this.stalled);
  }

  /**
   * Every open connection goes silent for good (nothing forwarded, no FIN,
   * no RST, ever: a half-open link that never heals, as after a NAT or
   * network change), while new connections pass. Only `cut` or `close`
   * ends them.
   */
  blackhole(): number {
    this.pass();
    for (const link of this.links) {
      link.stall({ up: true, down: true });
      this.lost.add(link);
    }
    const n = this.links.size;
    this.links.clear();
    return n;
  }

  /** Stops listening and cuts everything. */
  async close(): Promise<void> {
    this.cut('rst');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.counts.accepted++;
    client.setNoDelay(true);
    const server = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true, noDelay: true });
    const link = new Link(
      client,
      server,
      this.stalled,
      () => void this.counts.refused++,
      (l) => {
        this.links.delete(l);
        this.lost.delete(l);
      },
    );
    this.links.add(link);
  }
}
