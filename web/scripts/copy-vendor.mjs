// Copies ReDoc's standalone bundle (the pinned devDependency) into the
// build, so the server's /redoc page works offline:
// dist/vendor/redoc.standalone.js, served at /app/vendor/redoc.standalone.js.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(web, 'node_modules', 'redoc', 'bundles');
const to = join(web, 'dist', 'vendor');

for (const name of ['redoc.standalone.js', 'redoc.standalone.js.LICENSE.txt']) {
  const src = join(from, name);
  if (!existsSync(src)) {
    console.error(`copy-vendor: ${src} is missing: run npm ci`);
    process.exit(1);
  }
  mkdirSync(to, { recursive: true });
  copyFileSync(src, join(to, name));
}
console.log('copy-vendor: dist/vendor/redoc.standalone.js');
