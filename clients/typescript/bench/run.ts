/**
 * `npm run bench`: (a) apply, (b) restart, (c) memory, one after the other,
 * each in its own Node process (fresh heap; memory runs with --expose-gc),
 * against one server binary built once. Prints their output, then a
 * summary of every RESULT line.
 *
 * Knobs (environment): BENCH_ONLY=apply,restart,memory (a subset);
 * BENCH_QUICK=1 (small sizes and 2 runs for whatever is not set);
 * BENCH_RUNS, BENCH_FAKE_EVENTS, BENCH_LOG_EVENTS, BENCH_MISSED_EVENTS,
 * BENCH_RETRY_MS, BENCH_RESTART_SIGNAL, BENCH_BOARD_TASKS;
 * TASKWIRE_BIN (the server binary), TASKWIRE_SERVER_CPUS (pin the server).
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../test/helpers/index.js';

interface Bench {
  name: string;
  file: string;
  nodeFlags: string[];
}

const benches: Bench[] = [
  { name: 'apply', file: 'apply.js', nodeFlags: [] },
  { name: 'restart', file: 'restart.js', nodeFlags: [] },
  { name: 'memory', file: 'memory.js', nodeFlags: ['--expose-gc'] },
];

/** BENCH_QUICK=1: sizes for a quick check, where not set explicitly. */
const quick: Record<string, string> = {
  BENCH_RUNS: '2',
  BENCH_FAKE_EVENTS: '20000',
  BENCH_LOG_EVENTS: '2000',
  BENCH_MISSED_EVENTS: '200',
  BENCH_BOARD_TASKS: '1000',
};

interface Result {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
}

function childEnv(bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TASKWIRE_BIN: bin };
  if (process.env['BENCH_QUICK'] === '1') {
    for (const [k, v] of Object.entries(quick)) env[k] ??= v;
  }
  return env;
}

/** Runs one benchmark's module, echoing its output; returns its RESULT lines. */
async function runOne(bench: Bench, env: NodeJS.ProcessEnv): Promise<Result[]> {
  const file = join(dirname(fileURLToPath(import.meta.url)), bench.file);
  const child = spawn(process.execPath, [...bench.nodeFlags, file], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const results: Result[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice('RESULT '.length)) as Result);
    else console.log(`  ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`bench ${bench.name} exited with ${code}`);
  return results;
}

function machine(): string {
  const [one, five] = loadavg().map((l) => l.toFixed(2));
  return `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${one} (1 min) ${five} (5 min)`;
}

function summary(results: readonly Result[]): void {
  const fmt = (x: number) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
  console.log('\nsummary (median, min–max):');
  for (const r of results) console.log(`  ${r.name}: ${fmt(r.median)} ${r.unit} (${fmt(r.min)}–${fmt(r.max)})`);
}

const only = process.env['BENCH_ONLY']?.split(',').map((s) => s.trim());
const selected = benches.filter((b) => !only || only.includes(b.name));
const bin = buildServer();
if (!bin) throw new Error('no server binary: set TASKWIRE_BIN or install Go');
const env = childEnv(bin);
console.log(`${new Date().toISOString()}: ${machine()}`);
console.log(`server ${bin}${env['TASKWIRE_SERVER_CPUS'] ? ` pinned to CPUs ${env['TASKWIRE_SERVER_CPUS']}` : ''}`);
const results: Result[] = [];
for (const bench of selected) {
  console.log(`\n== ${bench.name}`);
  results.push(...(await runOne(bench, env)));
}
summary(results);
console.log(`\n${new Date().toISOString()}: ${machine()}`);
