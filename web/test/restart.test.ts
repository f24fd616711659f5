/**
 * Two people watch a board while the server is stopped gracefully
 * (SIGTERM), started, killed (SIGKILL) and started again on the same port
 * and database, and a third person keeps changing tasks over the API
 * between the outages. Afterwards both boards are exactly the REST state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { isNotFound, type Task } from '../../clients/typescript/src/index.ts';
import { newProject, newUser, whileUp, type ApiUser } from './helpers/api.ts';
import { boardOf, eventually, pageErrorsOf, pageFor } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const connection = (page: Page) => page.getByTestId('connection-status').getAttribute('data-state');

/** Carol's changes: create, move, rename, assign, delete, in turn; a task deleted meanwhile is dropped. */
class Changer {
  count = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly carol: ApiUser,
    private readonly projectId: number,
    private readonly ids: number[],
    private readonly assignees: number[],
  ) {
    this.done = this.loop();
  }

  async stop(): Promise<number> {
    this.stopped = true;
    await this.done;
    return this.count;
  }

  private async loop(): Promise<void> {
    const { tasks } = this.carol.client;
    const statuses = ['todo', 'in_progress', 'done'] as const;
    for (let i = 0; !this.stopped; i++) {
      const id = this.ids[i % Math.max(1, this.ids.length)];
      try {
        await whileUp(async (): Promise<unknown> => {
          if (id === undefined || i % 5 === 0) {
            const t: Task = await tasks.create(this.projectId, { title: `Change ${i}` });
            this.ids.push(t.id);
            return t;
          }
          if (i % 5 === 1) return tasks.setStatus(id, statuses[i % 3]!);
          if (i % 5 === 2) return tasks.update(id, { title: `Renamed ${i}` });
          if (i % 5 === 3) return tasks.update(id, { assignee_id: this.assignees[i % this.assignees.length]! });
          this.ids.splice(this.ids.indexOf(id), 1);
          return tasks.delete(id);
        });
        this.count += 1;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await sleep(25);
    }
  }
}

async function equalToRest(page: Page, carol: ApiUser, projectId: number): Promise<void> {
  let last = '';
  try {
    await eventually(
      async () => {
        const rest = (await carol.client.tasks.list(projectId)).tasks;
        const shown = await boardOf(page);
        const want = rest.map((t) => [t.id, t.status, t.status, t.version, t.title]);
        const got = [...shown].sort(([a], [b]) => a - b).map(([id, c]) => [id, c.column, c.status, c.version, c.title]);
        last = `REST ${JSON.stringify(want)}\npage ${JSON.stringify(got)}`;
        return JSON.stringify(want) === JSON.stringify(got);
      },
      20_000,
      'board equal to REST',
    );
  } catch (err) {
    console.log(last);
    throw err;
  }
}

test('after SIGTERM and SIGKILL restarts both boards equal the REST state', async () => {
  const ada = await newUser(s.server.url, 'ada');
  const bob = await newUser(s.server.url, 'bob');
  const carol = await newUser(s.server.url, 'carol');
  const p = await newProject(ada, 'Outages', [bob, carol], ['First', 'Second', 'Third']);
  const pages = [
    await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`),
    await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`),
  ];
  for (const page of pages) await eventually(async () => (await connection(page)) === 'live', 10_000);

  const changer = new Changer(carol, p.id, p.tasks.map((t) => t.id), [ada.id, bob.id, carol.id]);
  const phases: Record<string, number> = {};
  await sleep(700);
  phases['before'] = changer.count;

  await s.server.stop(); // SIGTERM: sockets are closed with 1001
  for (const page of pages) await eventually(async () => (await connection(page)) === 'reconnecting', 5_000, 'reconnecting');
  await sleep(500);
  await s.server.start();
  await sleep(1_000);
  phases['after SIGTERM'] = changer.count - phases['before']!;

  await s.server.kill(); // SIGKILL: no close frame, no goodbye
  for (const page of pages) await eventually(async () => (await connection(page)) === 'reconnecting', 10_000, 'reconnecting');
  await sleep(500);
  await s.server.start();
  await sleep(1_000);
  const total = await changer.stop();
  phases['after SIGKILL'] = total - phases['before']! - phases['after SIGTERM']!;
  console.log(`changes made by the third user: ${JSON.stringify(phases)}`);
  for (const n of Object.values(phases)) assert.ok(n > 0, JSON.stringify(phases));

  for (const page of pages) {
    await equalToRest(page, carol, p.id);
    await eventually(async () => (await connection(page)) === 'live', 10_000, 'live again');
  }
  // Both boards list the same members and presence came back.
  await pages[0]!.getByTestId(`presence-user-${bob.id}`).waitFor();
  await pages[1]!.getByTestId(`presence-user-${ada.id}`).waitFor();
  for (const page of pages) assert.deepEqual(pageErrorsOf(page), []);
  for (const page of pages) await page.context().close();
});

test('offline while the browser is offline, live again when it is back', async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Offline', [], ['Wait for me']);
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  await eventually(async () => (await connection(page)) === 'live', 10_000);
  await page.context().setOffline(true);
  await eventually(async () => (await connection(page)) === 'offline', 5_000, 'offline');
  await ada.client.tasks.setStatus(p.tasks[0]!.id, 'done');
  await page.context().setOffline(false);
  await eventually(async () => (await connection(page)) === 'live', 10_000, 'live');
  await equalToRest(page, ada, p.id);
  await page.context().close();
});
