import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest parent with go.mod. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'go.mod'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('go.mod not found above the test files');
    dir = up;
  }
  return dir;
}

let built: string | undefined;

/**
 * The server binary: $TASKWIRE_BIN, or `go build ./cmd/taskwire` into a
 * temp directory (once per process). Returns undefined when Go is missing,
 * so suites can skip; TASKWIRE_REQUIRE_SERVER=1 makes that an error.
 */
export function buildServer(): string | undefined {
  if (process.env['TASKWIRE_BIN']) return process.env['TASKWIRE_BIN'];
  if (built) return built;
  const out = join(mkdtempSync(join(tmpdir(), 'taskwire-ts-bin-')), 'taskwire');
  const res = spawnSync('go', ['build', '-o', out, './cmd/taskwire'], {
    cwd: repoRoot(),
    env: { ...process.env, GOTOOLCHAIN: process.env['GOTOOLCHAIN'] ?? 'go1.27.3' },
    encoding: 'utf8',
  });
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : res.stderr;
    if (process.env['TASKWIRE_REQUIRE_SERVER'] === '1') throw new Error(`go build failed: ${why}`);
    return undefined;
  }
  built = out;
  return out;
}

export type StopSignal = 'SIGTERM' | 'SIGKILL';

export interface TestServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  dir: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** SIGTERM (sockets get 1001; the default) or SIGKILL (no goodbye at all), and wait for the exit. */
  stop(signal?: StopSignal): Promise<void>;
  /** Stop (if running) with `signal`, then start again on the same port and database. */
  restart(signal?: StopSignal): Promise<void>;
  /** Stop and remove the temp directory. */
  dispose(): Promise<void>;
  /** The last lines the server wrote to stderr (for failure messages). */
  logs(): string;
}

/**
 * The command that runs the server: the binary itself, or `taskset -c CPUS
 * bin` when TASKWIRE_SERVER_CPUS is set (benchmarks pin the server).
 */
function command(bin: string): [string, string[]] {
  const cpus = process.env['TASKWIRE_SERVER_CPUS'];
  return cpus ? ['taskset', ['-c', cpus, bin, 'serve']] : [bin, ['serve']];
}

/**
 * Starts `taskwire serve` on PORT=0 with SQLite in a temp directory and
 * waits for its first stdout line: `taskwire listening on http://127.0.0.1:PORT`.
 */
export async function startServer(bin: string, env: Record<string, string> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-ts-srv-'));
  const baseEnv = {
    ...process.env,
    DATABASE_URL: `sqlite:///${join(dir, 'x.db')}`,
    BCRYPT_COST: '4',
    RATE_LIMIT_AUTH: '100000/minute',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'text',
    ...env,
  };
  let proc: ChildProcess | undefined;
  let port = 0;
  const tail: string[] = [];
  const launch = async (portEnv: string): Promise<void> => {
    const [cmd, args] = command(bin);
    const p = spawn(cmd, args, { env: { ...baseEnv, PORT: portEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    createInterface({ input: p.stderr! }).on('line', (l) => {
      tail.push(l);
      if (tail.length > 50) tail.shift();
    });
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: p.stdout! });
      rl.once('line', (l) => resolve(l));
      p.once('exit', (code) => reject(new Error(`taskwire exited with ${code} before listening:\n${tail.join('\n')}`)));
    });
    p.stdout?.resume();
    const m = /listening on (http:\/\/[^\s]+)/.exec(line);
    if (!m) throw new Error(`unexpected first line: ${line}`);
    port = Number(new URL(m[1]!).port);
  };
  const stop = async (signal: StopSignal = 'SIGTERM'): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    await exited;
  };
  await launch('0');
  const server: TestServer = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get running() {
      return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
    },
    dir,
    stop,
    restart: async (signal?: StopSignal) => {
      await stop(signal);
      await launch(String(port));
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    logs: () => tail.join('\n'),
  };
  return server;
}
