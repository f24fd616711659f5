/**
 * Chromium for the browser suite: Debian's /usr/bin/chromium (or
 * $CHROMIUM_PATH) driven by playwright-core, headless, each launch with a
 * fresh profile directory; pages signed in by putting the token where the
 * app keeps it (localStorage), or through the login form.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { ApiUser } from './api.ts';

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const screenshotDir = process.env['TASKWIRE_SCREENSHOTS'] ?? join(tmpdir(), 'taskwire-web-screenshots');
mkdirSync(screenshotDir, { recursive: true });

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const desktop = { width: 1280, height: 800 };

/** A context (its own storage) whose pages are signed in as `user`. */
export async function contextFor(
  browser: Browser,
  baseUrl: string,
  user: ApiUser | undefined,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    viewport: desktop,
    baseURL: baseUrl,
    ...options,
    ...(user
      ? { storageState: { cookies: [], origins: [{ origin: baseUrl, localStorage: [{ name: 'taskwire.token', value: user.token }] }] } }
      : {}),
  });
  ctx.setDefaultTimeout(10_000);
  return ctx;
}

/** A signed-in page at `path` (under /app/). */
export async function pageFor(browser: Browser, baseUrl: string, user: ApiUser, path: string, options: BrowserContextOptions = {}): Promise<Page> {
  const ctx = await contextFor(browser, baseUrl, user, options);
  const page = await ctx.newPage();
  trackErrors(page);
  await page.goto(path);
  return page;
}

/** Page errors and CSP violations fail the test that made them (checked by assertNoPageErrors). */
const pageErrors = new WeakMap<Page, string[]>();
export function trackErrors(page: Page): void {
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) errors.push(`csp: ${msg.text()}`);
  });
}
export function pageErrorsOf(page: Page): string[] {
  return pageErrors.get(page) ?? [];
}

/** The board as the page shows it: every card's column, status, version and title. */
export async function boardOf(page: Page): Promise<Map<number, { column: string; status: string; version: number; title: string }>> {
  const cards = await page.$$eval('[data-testid^="task-card-"]', (els) =>
    els.map((el) => ({
      id: Number(el.getAttribute('data-testid')!.slice('task-card-'.length)),
      column: el.closest('[data-testid^="column-"]')?.getAttribute('data-testid')?.slice('column-'.length) ?? '',
      status: el.getAttribute('data-status') ?? '',
      version: Number(el.getAttribute('data-version')),
      title: el.querySelector('[data-testid^="task-title-"]')?.textContent ?? '',
    })),
  );
  return new Map(cards.map((c) => [c.id, { column: c.column, status: c.status, version: c.version, title: c.title }]));
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core in the page (injected past the CSP: the context needs
 * bypassCSP) and returns the serious and critical violations, plus a count
 * of all of them.
 */
export async function axe(page: Page): Promise<{ serious: AxeViolation[]; all: AxeViolation[]; passes: number }> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe.run(document, {
      resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return {
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, ...(n.failureSummary ? { failureSummary: n.failureSummary } : {}) })),
      })),
      passes: r.passes.length,
    };
  });
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return { serious, all: result.violations, passes: result.passes };
}

/** Polls fn until it returns a truthy value (or throws the last failure after `ms`). */
export async function eventually<T>(fn: () => Promise<T> | T, ms = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = new Error(`${what} not met`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, 50));
  }
}
