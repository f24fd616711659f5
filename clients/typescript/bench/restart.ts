/**
 * (b) Server restart → the subscription live again, caught up with 1,000
 * events it missed.
 *
 * One subscriber (the `ws` WebSocket) is live on a project through a TCP
 * proxy (test/helpers/proxy.ts). Each run:
 *
 * 1. the proxy cuts the subscriber off and sends its reconnections to a
 *    closed port, so they are refused while the server stays up;
 * 2. 1,000 events (100 tasks created, 900 changes) are written straight to
 *    the server: the subscriber misses them;
 * 3. the server is stopped (SIGTERM; BENCH_RESTART_SIGNAL=SIGKILL) and the
 *    proxy points at its port again: tries are now refused by the stopped server;
 * 4. the server is started again on the same port and SQLite file. Timed:
 *    process start → accepting (its "listening" line: the port is bound)
 *    → the subscription delivers caught_up at the head, state `live`,
 *    lastSeq = head, every event applied once.
 *
 * The subscriber retries every 50 ms (BENCH_RETRY_MS: backoff floor = base
 * = cap) and its REST check after a refused try is not retried, so the
 * wait for its next try is bounded and reported apart from the work
 * (handshake, replay of the missed events, applying them). With the default
 * policy (full jitter up to 30 s) that wait would dominate.
 */
import { createServer, type AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createClient, type ProjectSubscription, type SubscriptionState } from '../src/index.js';
import { FaultProxy, type StopSignal } from '../test/helpers/index.js';
import { benchServer, report, runs, seed, type Bench } from './lib.js';

const missed = Number(process.env['BENCH_MISSED_EVENTS'] ?? 1_000);
const retryMs = Number(process.env['BENCH_RETRY_MS'] ?? 50);
const signal: StopSignal = process.env['BENCH_RESTART_SIGNAL'] === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM';

/** When each socket of the subscriber was opened (performance.now()). */
const socketOpenedAt: number[] = [];

/** The `ws` WebSocket, noting when each connection attempt starts. */
class TimedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    socketOpenedAt.push(performance.now());
  }
}

interface Sample {
  /** Process start → the listening line. */
  start: number;
  /** Listening → caught up and live. */
  catchUp: number;
  /** Listening → the subscriber's try that got through. */
  wait: number;
  /** That try → caught up and live. */
  work: number;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** performance.now() once the subscription delivers caught_up at `head` or later (all events before it handled). */
function caughtUpAt(sub: ProjectSubscription, head: number, ms = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not caught up at ${head} after ${ms} ms (lastSeq ${sub.lastSeq})`)), ms);
    const off = sub.on('caught_up', (seq) => {
      if (seq < head) return;
      off();
      clearTimeout(timer);
      resolve(performance.now());
    });
  });
}

/** Resolves at the subscription's next change to `wanted`. */
function reaches(sub: ProjectSubscription, wanted: SubscriptionState): Promise<void> {
  return new Promise((resolve) => {
    const off = sub.on('state', (state) => {
      if (state !== wanted) return;
      off();
      resolve();
    });
  });
}

interface Subscriber {
  sub: ProjectSubscription;
  /** Events delivered to it so far. */
  applied: () => number;
}

/** The subscriber, through the proxy, counting the events it applies. */
function subscriber(b: Bench, proxy: FaultProxy): Subscriber {
  const client = createClient({
    baseUrl: proxy.url,
    token: b.token,
    WebSocket: TimedWebSocket,
    lifecycle: null,
    live: { minMs: retryMs, baseMs: retryMs, capMs: retryMs },
    retry: { attempts: 1 },
  });
  let applied = 0;
  const sub = client.project(b.projectId).subscribe({ cursor: 0, onEvent: () => void applied++ });
  return { sub, applied: () => applied };
}

/** Steps 1–3: the subscriber is away, `missed` events are written, the server is down. */
async function missEventsAndStop(b: Bench, proxy: FaultProxy, sub: ProjectSubscription): Promise<number> {
  proxy.setTarget(await closedPort());
  proxy.cut('rst');
  await reaches(sub, 'reconnecting');
  const head = await seed(b, { tasks: Math.ceil(missed / 10), events: missed });
  await b.server.stop(signal);
  proxy.setTarget(b.server.port);
  return head;
}

/** One run: steps 1–4, checked (live at the head, every event applied once). */
async function restartOnce(b: Bench, proxy: FaultProxy, s: Subscriber): Promise<Sample> {
  const head = await missEventsAndStop(b, proxy, s.sub);
  const caughtUp = caughtUpAt(s.sub, head);
  const t0 = performance.now();
  await b.server.restart();
  const t1 = performance.now();
  const t2 = await caughtUp;
  if (s.sub.state !== 'live' || s.sub.lastSeq !== head || s.applied() !== head) {
    throw new Error(`after the restart: ${s.sub.state} at ${s.sub.lastSeq} with ${s.applied()} events applied, expected live at ${head}`);
  }
  const tryAt = socketOpenedAt.filter((t) => t < t2).at(-1)!;
  return { start: t1 - t0, catchUp: t2 - t1, wait: tryAt - t1, work: t2 - tryAt };
}

function reportAll(samples: readonly Sample[]): void {
  const col = (k: keyof Sample) => samples.map((s) => s[k]);
  const after = `${signal}, ${missed} events missed`;
  report(`restart (${after}): process start → accepting`, 'ms', col('start'));
  report(`restart (${after}): accepting → live and caught up`, 'ms', col('catchUp'));
  report(`restart (${after}): total, process start → live and caught up`, 'ms', samples.map((s) => s.start + s.catchUp));
  report(`restart (${after}): of which waiting for the next try (retry every ${retryMs} ms)`, 'ms', col('wait'));
  report(`restart (${after}): of which that try → live and caught up (handshake, replay, apply)`, 'ms', col('work'));
}

const b = await benchServer();
const proxy = await FaultProxy.start(b.server.port);
const s = subscriber(b, proxy);
try {
  await s.sub.caughtUp;
  await restartOnce(b, proxy, s); // warm-up
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await restartOnce(b, proxy, s));
  reportAll(samples);
} finally {
  s.sub.close();
  await proxy.close();
  await b.server.dispose();
}
