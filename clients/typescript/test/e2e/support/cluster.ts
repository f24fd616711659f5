import { FaultProxy, startServer, type TestServer } from '../../helpers/index.js';

/** The heartbeat the servers send; the readers' watchdog is set to match (silence for 2 × this reconnects). */
export const HEARTBEAT_MS = 300;

/** Server settings of every end-to-end run. */
export const serverEnv: Record<string, string> = {
  WS_HEARTBEAT_INTERVAL: `${HEARTBEAT_MS}ms`,
  // Every reader connects from 127.0.0.1 and stalled sockets linger until their link heals:
  // the per-user and per-address caps would only add 429 waits unrelated to what is tested.
  WS_MAX_PER_USER: '0',
  WS_MAX_PER_ADDR: '0',
  SHUTDOWN_GRACE: '3s',
  JWT_SECRET: 'taskwire-e2e-secret-0123456789abcdefghijklmnop',
};

/**
 * The servers of a test (one on SQLite, or several sharing PostgreSQL and
 * Redis), the fault proxy the readers go through, and which instance the
 * proxy and the writer currently use.
 */
export class Cluster {
  /** The instance new proxied connections reach. */
  target = 0;
  /** The instance the writer (not proxied) talks to. */
  writer = 0;

  private constructor(
    readonly instances: TestServer[],
    readonly proxy: FaultProxy,
  ) {}

  /** Starts `count` instances one after the other (the first migrates the database) and a proxy in front of the first. */
  static async start(bin: string, count: number, env: Record<string, string> = {}): Promise<Cluster> {
    const instances: TestServer[] = [];
    try {
      for (let i = 0; i < count; i++) instances.push(await startServer(bin, { ...serverEnv, ...env }));
    } catch (err) {
      await Promise.all(instances.map((s) => s.dispose()));
      throw err;
    }
    return new Cluster(instances, await FaultProxy.start(instances[0]!.port));
  }

  instance(i: number): TestServer {
    const s = this.instances[i];
    if (!s) throw new Error(`no instance ${i}`);
    return s;
  }

  /** The direct URL of the writer's instance. */
  get writerUrl(): string {
    return this.instance(this.writer).url;
  }

  /** New proxied connections go to instance `i` (open ones stay until cut). */
  route(i: number): void {
    this.target = i;
    this.proxy.setTarget(this.instance(i).port);
  }

  /** The last lines of every instance's stderr, for failure messages. */
  logs(): string {
    return this.instances.map((s, i) => `--- instance ${i} (${s.running ? 'running' : 'stopped'}) ---\n${s.logs()}`).join('\n');
  }

  async dispose(): Promise<void> {
    await this.proxy.close();
    await Promise.all(this.instances.map((s) => s.dispose()));
  }
}
