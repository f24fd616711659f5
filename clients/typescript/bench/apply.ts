/**
 * (a) Events per second one Node subscriber applies.
 *
 * 1. The client's own cost: pre-encoded frames fed through the scripted
 *    socket (no network, no server), 100 frames per macrotask as a socket
 *    would hand them over, synchronous no-op handlers, the real clock (the
 *    watchdog is re-armed on every frame, as in production).
 * 2. Against the real server: a project with 20,000 events in its log,
 *    subscribe with since=0, time until caught_up is delivered.
 */
import WebSocket from 'ws';
import { createClient, systemClock } from '../src/index.js';
import { PROJECT, ev, fakeEnv, socketNumber } from '../test/helpers/index.js';
import { benchServer, report, runs, seed, until } from './lib.js';

const fakeEvents = Number(process.env['BENCH_FAKE_EVENTS'] ?? 200_000);
const logEvents = Number(process.env['BENCH_LOG_EVENTS'] ?? 20_000);

async function fakeOnce(frames: readonly string[]): Promise<number> {
  const env = fakeEnv({ client: { clock: systemClock } });
  const sub = env.client.project(PROJECT).subscribe({ cursor: 0, onEvent: () => {} });
  const socket = (await socketNumber(env, 1)).open().caughtUp(0);
  await sub.caughtUp;
  const t0 = performance.now();
  for (let i = 0; i < frames.length; i += 100) {
    for (let j = i; j < Math.min(i + 100, frames.length); j++) socket.deliver(frames[j]!);
    await new Promise((r) => setImmediate(r));
  }
  const t1 = await until(() => sub.lastSeq === frames.length);
  sub.close();
  return frames.length / ((t1 - t0) / 1000);
}

async function serverOnce(baseUrl: string, token: string, projectId: number, head: number): Promise<number> {
  const client = createClient({ baseUrl, token, WebSocket, lifecycle: null });
  let applied = 0;
  const t0 = performance.now();
  const sub = client.project(projectId).subscribe({ cursor: 0, onEvent: () => void applied++ });
  const seq = await sub.caughtUp;
  const t1 = performance.now();
  if (seq !== head || applied !== head) throw new Error(`caught up at ${seq} with ${applied} applied, expected ${head}`);
  sub.close();
  return head / ((t1 - t0) / 1000);
}

const frames = Array.from({ length: fakeEvents }, (_, i) => JSON.stringify(ev(i + 1)));
const frameBytes = Math.round(frames.reduce((n, f) => n + f.length, 0) / frames.length);
await fakeOnce(frames.slice(0, 20_000)); // warm-up (JIT)
const fake: number[] = [];
for (let i = 0; i < runs; i++) fake.push(await fakeOnce(frames));
report(`apply, scripted socket (${fakeEvents} task_updated frames of ~${frameBytes} B)`, 'events/s', fake, { frameBytes });

const b = await benchServer();
try {
  const t0 = performance.now();
  const head = await seed(b, { tasks: 2_000, events: logEvents });
  console.log(`seeded ${head} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await serverOnce(b.server.url, b.token, b.projectId, head); // warm-up
  const real: number[] = [];
  for (let i = 0; i < runs; i++) real.push(await serverOnce(b.server.url, b.token, b.projectId, head));
  report(`apply, real server, since=0 to caught_up (${head} events in the log)`, 'events/s', real, {
    seconds: real.map((r) => head / r),
  });
} finally {
  await b.server.dispose();
}
