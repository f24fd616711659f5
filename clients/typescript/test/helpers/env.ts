import { createClient, type ClientOptions, type LiveOptions, type TaskwireClient } from '../../src/index.js';
import { FakeClock, flush } from './fake-clock.js';
import { FakeFetch, json } from './fake-fetch.js';
import { FakeSocketServer, type FakeSocket } from './fake-socket.js';
import { BASE, PROJECT, evs } from './fixtures.js';

export interface FakeEnv {
  clock: FakeClock;
  sockets: FakeSocketServer;
  http: FakeFetch;
  client: TaskwireClient;
  /** The log the fake REST API serves for GET /projects/1/events (and X-Event-Seq of reads). */
  log: { head: number };
}

export interface FakeEnvOptions {
  live?: Partial<LiveOptions>;
  random?: () => number;
  client?: Partial<ClientOptions>;
}

/**
 * A client wired to a fake clock, a scripted socket server and a fake REST
 * API whose project 1 has a log of `log.head` events (task_updated of task n
 * at seq n), so gap refills and probes have something to read.
 */
export function fakeEnv(opts: FakeEnvOptions = {}): FakeEnv {
  const clock = new FakeClock();
  const sockets = new FakeSocketServer();
  const http = new FakeFetch();
  const log = { head: 0 };
  const seqHeader = () => ({ 'X-Event-Seq': String(log.head) });
  http.on('GET', new RegExp(`/api/v1/projects/${PROJECT}/events`), (req) => {
    const since = Number(req.query.get('since') ?? 0);
    const limit = Number(req.query.get('limit') ?? 0);
    const last = limit > 0 ? Math.min(log.head, since + limit) : log.head;
    const headers: Record<string, string> = seqHeader();
    if (last < log.head) headers['Link'] = `</api/v1/projects/${PROJECT}/events?since=${last}&limit=${limit}>; rel="next"`;
    return json(200, evs(since + 1, last), headers);
  });
  http.on('GET', new RegExp(`/api/v1/projects/${PROJECT}`), () =>
    json(200, { id: PROJECT, name: 'P', description: null, owner_id: 1, members: [] }, seqHeader()),
  );
  const client = createClient({
    baseUrl: BASE,
    token: 't1',
    fetch: http.fetch,
    WebSocket: sockets.WebSocket,
    clock,
    random: opts.random ?? (() => 0.5),
    lifecycle: null,
    ...(opts.live ? { live: opts.live } : {}),
    ...opts.client,
  });
  return { clock, sockets, http, client, log };
}

/** Waits (flushing promises) until the client opened socket number `n` (1-based). */
export async function socketNumber(env: FakeEnv, n: number): Promise<FakeSocket> {
  await flush();
  const s = env.sockets.sockets[n - 1];
  if (!s) throw new Error(`expected socket #${n}, the client opened ${env.sockets.count}`);
  return s;
}

/** Advances the fake clock until the client opens one more socket (at most `maxMs`). */
export async function nextSocket(env: FakeEnv, maxMs = 120_000): Promise<{ socket: FakeSocket; waitedMs: number }> {
  const before = env.sockets.count;
  const start = env.clock.now();
  await flush();
  while (env.sockets.count === before) {
    const d = await env.clock.next();
    if (d === undefined || env.clock.now() - start > maxMs) throw new Error('the client did not reconnect');
  }
  return { socket: env.sockets.last, waitedMs: env.clock.now() - start };
}
