/**
 * Shared pieces of the benchmarks: a server with a user and a project,
 * concurrent seeding, medians, and the one-line results bench/run.ts reads.
 */
import { createClient, type TaskStatus, type TaskwireClient } from '../src/index.js';
import { buildServer, startServer, type TestServer } from '../test/helpers/index.js';

/** Repetitions of each measurement (BENCH_RUNS, default 5). */
export const runs = Number(process.env['BENCH_RUNS'] ?? 5);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Prints one result: a human line, and a JSON line (`RESULT {...}`) for the runner's summary. */
export function report(name: string, unit: string, samples: readonly number[], notes: Record<string, unknown> = {}): void {
  const fmt = (x: number) => (Math.abs(x) >= 100 ? Math.round(x).toString() : x.toFixed(2));
  const [min, max] = [Math.min(...samples), Math.max(...samples)];
  console.log(`${name}: median ${fmt(median(samples))} ${unit}, min ${fmt(min)}, max ${fmt(max)} (runs: ${samples.map(fmt).join(', ')})`);
  console.log(`RESULT ${JSON.stringify({ name, unit, median: median(samples), min, max, samples, ...notes })}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds; returns performance.now() at that moment. */
export async function until(check: () => boolean, ms = 120_000, what = 'condition'): Promise<number> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
  return performance.now();
}

export interface Bench {
  server: TestServer;
  client: TaskwireClient;
  token: string;
  projectId: number;
}

/** A server (pinned when TASKWIRE_SERVER_CPUS is set), a logged-in owner and an empty project. */
export async function benchServer(env: Record<string, string> = {}): Promise<Bench> {
  const bin = buildServer();
  if (!bin) throw new Error('no server binary: set TASKWIRE_BIN or install Go');
  const server = await startServer(bin, { EVENT_RETENTION_COUNT: '100000', ...env });
  const client = createClient({ baseUrl: server.url });
  await client.auth.signup({ email: 'bench@example.com', username: 'bench', password: 'bench-pw' });
  const { access_token } = await client.auth.login({ username: 'bench', password: 'bench-pw' });
  const p = await client.projects.create({ name: 'bench' });
  return { server, client, token: access_token, projectId: p.id };
}

const statuses: readonly TaskStatus[] = ['todo', 'in_progress', 'done'];

/** A status as the API sends it (a string), checked. */
function asStatus(s: string): TaskStatus {
  const known = statuses.find((x) => x === s);
  if (known === undefined) throw new Error(`seed: unknown task status ${s}`);
  return known;
}

/** The status after `s` in the cycle: always a different one. */
function nextStatus(s: TaskStatus): TaskStatus {
  return statuses[(statuses.indexOf(s) + 1) % statuses.length]!;
}

/** Runs `fn(0) … fn(total - 1)` on `concurrency` workers, in index order. */
async function inParallel(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

/**
 * A seeded task and the status it has on the server. Its writes are queued
 * one after the other, so each one starts from the status the previous one
 * left and changes something: one write, exactly one event (a status set to
 * the status a task already has would write none).
 */
class SeededTask {
  private last: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    private status: TaskStatus,
  ) {}

  /** Write number `i`: even ones move the status on, odd ones rename. */
  change(client: TaskwireClient, i: number): Promise<void> {
    const write = async () => {
      if (i % 2 === 0) {
        this.status = nextStatus(this.status);
        await client.tasks.setStatus(this.id, this.status);
      } else {
        await client.tasks.update(this.id, { title: `task ${this.id} v${i}` });
      }
    };
    this.last = this.last.then(write);
    return this.last;
  }
}

/**
 * Appends exactly `events` events to the project with `concurrency` writers:
 * first `tasks` task_created, then status changes and renames spread over
 * those tasks. Returns the project's seq afterwards, checked to have moved
 * by exactly `events`.
 */
export async function seed(b: Bench, opts: { tasks: number; events: number; concurrency?: number }): Promise<number> {
  const { tasks, events, concurrency = 16 } = opts;
  if (tasks < 1 || events < tasks) throw new Error(`seed: need 1 ≤ tasks ≤ events, got ${tasks} tasks, ${events} events`);
  const before = (await b.client.projects.get(b.projectId)).seq;
  const seeded: SeededTask[] = [];
  await inParallel(tasks, concurrency, async (i) => {
    const t = await b.client.tasks.create(b.projectId, { title: `task ${i}`, description: `seeded task number ${i}` });
    seeded.push(new SeededTask(t.id, asStatus(t.status)));
  });
  await inParallel(events - tasks, concurrency, (i) => seeded[i % tasks]!.change(b.client, i));
  const head = (await b.client.projects.get(b.projectId)).seq;
  if (head !== before + events) throw new Error(`seed: the project's seq went from ${before} to ${head}, expected ${before + events}`);
  return head;
}
