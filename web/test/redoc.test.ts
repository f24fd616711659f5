/**
 * The build carries ReDoc's standalone bundle: the binary serves it at
 * /app/vendor/redoc.standalone.js, and /redoc pointed there
 * (REDOC_SCRIPT_URL) renders the API reference without the internet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextFor } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite({ REDOC_SCRIPT_URL: '/app/vendor/redoc.standalone.js' });

test('/redoc renders offline from the bundle in web/dist/vendor', async () => {
  const res = await fetch(`${s.server.url}/app/vendor/redoc.standalone.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /javascript/);
  assert.ok((await res.arrayBuffer()).byteLength > 500_000);

  const ctx = await contextFor(s.browser, s.server.url, undefined);
  const page = await ctx.newPage();
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    // ReDoc's "powered by" footer shows a logo from its CDN: cosmetic, and blocked here.
    if (route.request().resourceType() !== 'image') outside.push(url.href);
    return route.abort();
  });
  await page.goto('/redoc');
  await page.locator('h1', { hasText: /Taskwire/ }).first().waitFor({ timeout: 20_000 });
  await page.getByText('/api/v1/auth/signup').first().waitFor();
  assert.deepEqual(outside, [], 'no script, style or data is loaded from outside');
  await ctx.close();
});
