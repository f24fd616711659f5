/**
 * (c) Memory and load time of `client.project(id).live()` on a board of
 * 10,000 tasks (BENCH_BOARD_TASKS).
 *
 * A project is seeded with that many tasks (task_created only) on the real
 * server. Each run measures heapUsed after a full collection before
 * live() and again once the board is loaded and its subscription caught
 * up, while the board is still referenced. Run with `node --expose-gc`
 * (bench/run.ts does). A first board is loaded and dropped before the runs,
 * so one-time allocations (modules, HTTP agent, JIT) are not counted.
 */
import WebSocket from 'ws';
import { createClient, type LiveBoard, type TaskwireClient } from '../src/index.js';
import { benchServer, report, runs, seed, sleep } from './lib.js';

const tasks = Number(process.env['BENCH_BOARD_TASKS'] ?? 10_000);
const MiB = 1024 * 1024;

/** heapUsed after full collections (until it stops shrinking, at most 5). */
function settledHeap(): number {
  const gc = globalThis.gc;
  if (!gc) throw new Error('bench/memory.js needs node --expose-gc');
  let used = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    const now = process.memoryUsage().heapUsed;
    if (now >= used) break;
    used = now;
  }
  return used;
}

interface Load {
  board: LiveBoard;
  /** live() → the snapshot loaded (`ready`). */
  readyMs: number;
  /** live() → the subscription's first caught_up (live). */
  liveMs: number;
}

async function load(client: TaskwireClient, projectId: number, head: number): Promise<Load> {
  const t0 = performance.now();
  const board = client.project(projectId).live();
  const b = await board.ready;
  const t1 = performance.now();
  const seq = await board.subscription!.caughtUp;
  const t2 = performance.now();
  if (seq !== head || b.tasks.size !== tasks || board.state !== 'live') {
    throw new Error(`board ${board.state} at ${seq} with ${b.tasks.size} tasks, expected live at ${head} with ${tasks}`);
  }
  return { board, readyMs: t1 - t0, liveMs: t2 - t0 };
}

interface Run {
  /** heapUsed the loaded board adds. */
  bytes: number;
  readyMs: number;
  liveMs: number;
  /** heapUsed still above the start once the board is closed and dropped (a leak would show here). */
  leftover: number;
}

/** Loads a board and weighs it while it is referenced; closes it. */
async function loadAndWeigh(client: TaskwireClient, projectId: number, head: number, before: number) {
  const { board, readyMs, liveMs } = await load(client, projectId, head);
  const bytes = settledHeap() - before;
  board.close(); // referenced up to here
  return { bytes, readyMs, liveMs };
}

/** One run: the heap a loaded board holds, its load times, and what is left after close(). */
async function measure(client: TaskwireClient, projectId: number, head: number): Promise<Run> {
  const before = settledHeap();
  const weighed = await loadAndWeigh(client, projectId, head, before);
  await sleep(500); // the closed socket's closing handshake
  return { ...weighed, leftover: settledHeap() - before };
}

/** Loads and drops a first board (one-time allocations); returns the size of a task as the REST API sends it. */
async function warmUp(client: TaskwireClient, projectId: number, head: number): Promise<number> {
  const { board } = await load(client, projectId, head);
  const json = JSON.stringify([...board.board.tasks.values()]).length / tasks;
  board.close();
  await sleep(500);
  return json;
}

const b = await benchServer();
try {
  const t0 = performance.now();
  const head = await seed(b, { tasks, events: tasks });
  console.log(`seeded ${tasks} tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const client = createClient({ baseUrl: b.server.url, token: b.token, WebSocket, lifecycle: null });
  const json = Math.round(await warmUp(client, b.projectId, head));
  const samples: Run[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure(client, b.projectId, head));
  const notes = { tasks, jsonBytesPerTask: json };
  const name = `memory: live() board of ${tasks} tasks`;
  report(`${name}, heapUsed held`, 'MiB', samples.map((s) => s.bytes / MiB), notes);
  report(`${name}, heapUsed per task (as JSON: ~${json} B/task)`, 'B/task', samples.map((s) => s.bytes / tasks), notes);
  report(`${name}, heapUsed left after close()`, 'MiB', samples.map((s) => s.leftover / MiB), notes);
  report(`${name}, live() → ready (snapshot loaded)`, 'ms', samples.map((s) => s.readyMs), notes);
  report(`${name}, live() → live (caught up)`, 'ms', samples.map((s) => s.liveMs), notes);
} finally {
  await b.server.dispose();
}
