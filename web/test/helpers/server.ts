/**
 * The real server for the browser suite: the binary built with the
 * committed web/dist embedded ($TASKWIRE_BIN, or built here), started on
 * PORT=0 with SQLite in a temp directory; it can be stopped with SIGTERM
 * or SIGKILL and started again on the same port and database.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = join(webDir, '..');

/** $TASKWIRE_BIN, or `go build ./cmd/taskwire` into a temp directory. */
export function serverBinary(): string {
  const bin = process.env['TASKWIRE_BIN'];
  if (bin) {
    if (!existsSync(bin)) throw new Error(`TASKWIRE_BIN=${bin} does not exist`);
    return bin;
  }
  const out = join(mkdtempSync(join(tmpdir(), 'taskwire-web-bin-')), 'taskwire');
  const res = spawnSync('go', ['build', '-o', out, './cmd/taskwire'], {
    cwd: repoRoot,
    env: { ...process.env, GOTOOLCHAIN: process.env['GOTOOLCHAIN'] ?? 'go1.27.3' },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (res.status !== 0) throw new Error('go build ./cmd/taskwire failed');
  process.env['TASKWIRE_BIN'] = out;
  return out;
}

export interface TestServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** SIGTERM (graceful: sockets get 1001) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, no goodbye to anyone. */
  kill(): Promise<void>;
  /** Start again on the same port and database. */
  start(): Promise<void>;
  /** Everything the server has logged so far (stderr), across restarts. */
  log(): string;
  dispose(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const bin = serverBinary();
  const dir = mkdtempSync(join(tmpdir(), 'taskwire-web-srv-'));
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: `sqlite:///${join(dir, 'x.db')}`,
    BCRYPT_COST: '4',
    RATE_LIMIT_AUTH: '100000/minute',
    LOG_LEVEL: 'warn',
    ...env,
  };
  let proc: ChildProcess | undefined;
  let port = 0;
  const logged: string[] = [];

  const launch = async (): Promise<void> => {
    const p = spawn(bin, ['serve'], { env: { ...baseEnv, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stderr?.on('data', (chunk: Buffer) => {
      logged.push(chunk.toString('utf8'));
      if (process.env['TASKWIRE_TEST_LOG']) process.stderr.write(chunk);
    });
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: p.stdout! });
      rl.once('line', resolve);
      p.once('exit', (code) => reject(new Error(`taskwire exited with ${code} before listening`)));
    });
    p.stdout?.resume();
    const m = /listening on (http:\/\/\S+)/.exec(line);
    if (!m) throw new Error(`unexpected first line: ${line}`);
    port = Number(new URL(m[1]!).port);
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    await exited;
  };

  await launch();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    start: launch,
    log: () => logged.join(''),
    dispose: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
