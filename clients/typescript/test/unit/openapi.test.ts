import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// dist/test/unit/ → the package root.
const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('generated types', () => {
  it('openapi types are current', () => {
    // Exactly what `npm run gen` runs, into a temp file instead of src/openapi.ts.
    const cli = join(dirname(createRequire(import.meta.url).resolve('openapi-typescript/package.json')), 'bin/cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'taskwire-openapi-'));
    try {
      const out = join(dir, 'openapi.ts');
      const res = spawnSync(process.execPath, [cli, '../../openapi.json', '--output', out], { cwd: pkg, encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      const committed = readFileSync(join(pkg, 'src/openapi.ts'), 'utf8');
      assert.ok(
        readFileSync(out, 'utf8') === committed,
        'src/openapi.ts differs from what openapi.json generates: run `npm run gen` in clients/typescript and commit the result',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
