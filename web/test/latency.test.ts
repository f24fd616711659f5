/**
 * How long from another person's change to the card moving on the
 * observer's page, over 100 changes. Bob's page sends each move with fetch
 * and notes when (performance.timeOrigin + performance.now()); a
 * MutationObserver in Ada's page notes when the card lands in its new
 * column, on the same clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProject, newUser } from './helpers/api.ts';
import { eventually, pageFor } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();
const CHANGES = 100;

/** Notes in window.landed when each card appears in the column of its status. */
const OBSERVE = `(() => {
  window.landed = [];
  const note = (el) => {
    const card = el.matches('[data-testid^="task-card-"]') ? el : el.querySelector('[data-testid^="task-card-"]');
    const column = card && card.closest('[data-testid^="column-"]');
    if (card && column && column.getAttribute('data-status') === card.getAttribute('data-status')) {
      window.landed.push({ id: card.getAttribute('data-task-id'), status: card.getAttribute('data-status'), t: performance.timeOrigin + performance.now() });
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') note(r.target);
      else r.addedNodes.forEach((n) => n instanceof Element && note(n));
    }
  }).observe(document.querySelector('[data-testid="board"]'), { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
})()`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

test(`latency from another user's change to the card moving, over ${CHANGES} changes`, async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Latency', [bob], ['Ping', 'Pong', 'Pang', 'Pung']);
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`);
  for (const page of [adaPage, bobPage]) {
    await eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live', 10_000);
  }

  // A string, not a function: the test runner's transpiler would wrap named functions in helpers the page lacks.
  await adaPage.evaluate(OBSERVE);

  const statuses = ['in_progress', 'done', 'todo'] as const;
  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const task = p.tasks[i % p.tasks.length]!;
    const status = statuses[Math.floor(i / p.tasks.length) % 3]!;
    const sent = await bobPage.evaluate(
      async ({ id, status }) => {
        const token = localStorage.getItem('taskwire.token');
        const t0 = performance.timeOrigin + performance.now();
        const res = await fetch(`/api/v1/tasks/${id}/status`, {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ status }),
        });
        if (!res.ok) throw new Error(`PATCH ${res.status}`);
        return t0;
      },
      { id: task.id, status },
    );
    const landed = await adaPage.waitForFunction(
      ({ id, status, after }) => {
        const w = window as unknown as { landed: { id: string; status: string; t: number }[] };
        return w.landed.find((x) => x.id === String(id) && x.status === status && x.t > after)?.t ?? false;
      },
      { id: task.id, status, after: sent },
      { polling: 10, timeout: 5_000 },
    );
    latencies.push(((await landed.jsonValue()) as number) - sent);
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  console.log(
    `change → card moved on another user's page, ${CHANGES} changes: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, min ${sorted[0]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`,
  );
  assert.ok(sorted[0]! > 0, 'the card never moves before the change was sent');
  await adaPage.context().close();
  await bobPage.context().close();
});
