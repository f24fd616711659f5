// npm test: the browser suite against the real binary. The binary must
// embed the current web/dist: $TASKWIRE_BIN, or built here from the
// repository (after `npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };

if (!env.TASKWIRE_BIN) {
  if (!existsSync(join(web, 'dist', 'index.html'))) {
    console.error('web/dist is not built: run npm run build first');
    process.exit(1);
  }
  const out = join(mkdtempSync(join(tmpdir(), 'taskwire-web-bin-')), 'taskwire');
  console.log(`building the server with web/dist embedded: go build -o ${out} ./cmd/taskwire`);
  const res = spawnSync('go', ['build', '-o', out, './cmd/taskwire'], {
    cwd: join(web, '..'),
    env: { ...env, GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'go1.27.3' },
    stdio: 'inherit',
  });
  if (res.status !== 0) process.exit(res.status ?? 1);
  env.TASKWIRE_BIN = out;
}

const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(join(web, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test', f));

// One file at a time: each starts its own server and Chromium, and the machine may be shared.
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: web,
  env,
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
