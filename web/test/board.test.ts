/**
 * The board with two people on it: every change one makes reaches the
 * other's board and bell within a second, without a reload; notifications
 * are marked read; a 412 on edit shows the newer version and the retry
 * works; cards move by keyboard alone and by drag and drop; a phone shows
 * all three columns; and a screenshot of a board.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, newUser, type ApiUser } from './helpers/api.ts';
import { boardOf, eventually, pageErrorsOf, pageFor, screenshotDir } from './helpers/browser.ts';
import { repoRoot } from './helpers/server.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();

const unread = async (page: Page) => Number(await page.getByTestId('notification-bell').getAttribute('data-unread'));
const live = (page: Page) =>
  eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live', 10_000, 'live');

/** Runs `act`, then waits until `seen` holds on the observer's page; returns how long that took. */
async function within(ms: number, what: string, act: () => Promise<unknown>, seen: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  await act();
  await eventually(seen, ms + 2_000, what);
  const took = performance.now() - t0;
  assert.ok(took < ms, `${what} took ${took.toFixed(0)} ms`);
  return took;
}

test('what one person does reaches the other board and bell within a second, without a reload', async () => {
  const ada = await newUser(s.server.url, 'ada');
  const bob = await newUser(s.server.url, 'bob');
  const p = await newProject(ada, 'Website', [bob]);
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`);
  await live(adaPage);
  await live(bobPage);
  await adaPage.getByTestId(`presence-user-${bob.id}`).waitFor();
  await bobPage.getByTestId(`presence-user-${ada.id}`).waitFor();
  // Nothing below reloads Bob's page: this marker would be gone.
  await bobPage.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const timings: Record<string, number> = {};

  // Create.
  await adaPage.getByTestId('new-task-title').fill('Fix login');
  let id = 0;
  timings['create'] = await within(
    1000,
    'the new card on Bob’s board',
    () => adaPage.getByTestId('new-task-submit').click(),
    async () => {
      const cards = await boardOf(bobPage);
      id = [...cards].find(([, c]) => c.title === 'Fix login')?.[0] ?? 0;
      return id > 0 && cards.get(id)?.column === 'todo';
    },
  );
  const bell0 = await unread(bobPage);

  // Assign to Bob: his select shows it, his bell rings.
  timings['assign'] = await within(
    1000,
    'the assignment on Bob’s board and bell',
    () => adaPage.getByTestId(`task-assignee-${id}`).selectOption(String(bob.id)),
    async () =>
      (await bobPage.getByTestId(`task-assignee-${id}`).inputValue()) === String(bob.id) && (await unread(bobPage)) === bell0 + 1,
  );

  // Move with the card's button.
  timings['move'] = await within(
    1000,
    'the move on Bob’s board and bell',
    () => adaPage.getByTestId(`task-move-${id}-in_progress`).click(),
    async () =>
      (await boardOf(bobPage)).get(id)?.column === 'in_progress' && (await unread(bobPage)) === bell0 + 2,
  );
  assert.equal(await bobPage.getByTestId('column-in_progress').getByTestId(`task-card-${id}`).count(), 1);

  // Edit the title and description in the task view.
  await adaPage.getByTestId(`task-title-${id}`).click();
  await adaPage.waitForURL(new RegExp(`/app/projects/${p.id}/tasks/${id}$`));
  await adaPage.getByTestId(`task-edit-title-${id}`).fill('Fix the login page');
  await adaPage.getByTestId(`task-description-${id}`).fill('The button does nothing on Safari.');
  timings['edit'] = await within(
    1000,
    'the edit on Bob’s board and bell',
    () => adaPage.getByTestId(`task-save-${id}`).click(),
    async () =>
      (await boardOf(bobPage)).get(id)?.title === 'Fix the login page' && (await unread(bobPage)) === bell0 + 3,
  );
  await bobPage.getByTestId(`task-card-${id}`).getByText('The button does nothing on Safari.').waitFor();
  await adaPage.getByRole('button', { name: 'Close the task' }).click();
  await adaPage.waitForURL(new RegExp(`/app/projects/${p.id}$`));

  // Delete.
  timings['delete'] = await within(
    1000,
    'the deletion on Bob’s board and bell',
    () => adaPage.getByTestId(`task-delete-${id}`).click(),
    async () => !(await boardOf(bobPage)).has(id) && (await unread(bobPage)) === bell0 + 4,
  );

  // Bob's activity panel tells the story in words.
  const activity = (await bobPage.getByTestId('activity-list').innerText()).split('\n').join(' ');
  for (const line of [
    'ada created Fix login',
    'ada assigned Fix login to bob',
    'ada moved Fix login to In progress',
    'ada renamed Fix login to Fix the login page and edited the description of Fix the login page',
    'ada deleted Fix the login page',
  ]) {
    assert.ok(activity.includes(line), `activity has "${line}": ${activity}`);
  }
  // And his bell's inbox, newest first.
  await bobPage.getByTestId('notification-bell').click();
  const inbox = await bobPage.getByTestId('notification-list').innerText();
  assert.match(inbox, /ada deleted Fix the login page[\s\S]*ada renamed your task to Fix the login page[\s\S]*ada moved Fix login to In progress[\s\S]*ada assigned Fix login to you/);

  assert.equal(await bobPage.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
  // Leaving the page ends Ada's presence on Bob's board.
  await adaPage.close();
  await bobPage.getByTestId(`presence-user-${ada.id}`).waitFor({ state: 'detached' });
  assert.deepEqual(pageErrorsOf(bobPage), []);
  console.log(`live update latency (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  await adaPage.context().close();
  await bobPage.context().close();
});

test('notifications: the bell counts, one is marked read, then all', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Inbox', [bob], ['One', 'Two', 'Three']);
  const bobPage = await pageFor(s.browser, s.server.url, bob, '/app/');
  await live(bobPage);
  const base = await unread(bobPage); // "added you to Inbox"
  for (const t of p.tasks) await ada.client.tasks.update(t.id, { assignee_id: bob.id });
  await eventually(async () => (await unread(bobPage)) === base + 3);

  await bobPage.getByTestId('notification-bell').click();
  await bobPage.getByTestId('notification-list').waitFor();
  const { notifications } = await bob.client.notifications.list();
  const newest = notifications[0]!;
  await bobPage.getByTestId(`notification-item-${newest.id}`).getByText(`assigned Three to you`).waitFor();
  await bobPage.getByTestId(`notification-read-${newest.id}`).click();
  await eventually(async () => (await unread(bobPage)) === base + 2);
  assert.equal(await bobPage.getByTestId(`notification-item-${newest.id}`).getAttribute('data-read'), 'true');
  assert.equal((await bob.client.notifications.list()).unread, base + 2);

  // A new one arrives live while the inbox is open.
  await ada.client.tasks.setStatus(p.tasks[0]!.id, 'done');
  await eventually(async () => (await unread(bobPage)) === base + 3);
  await bobPage.getByTestId('notification-list').getByText('moved One to Done').waitFor();

  await bobPage.getByTestId('notification-read-all').click();
  await eventually(async () => (await unread(bobPage)) === 0);
  assert.equal(await bobPage.locator('[data-testid^="notification-read-"]:not([data-testid="notification-read-all"])').count(), 0);
  assert.equal((await bob.client.notifications.list()).unread, 0);

  // Clicking a notification opens its task.
  await bobPage.getByTestId(`notification-item-${newest.id}`).getByRole('link').click();
  await bobPage.waitForURL(new RegExp(`/app/projects/${p.id}/tasks/${p.tasks[2]!.id}$`));
  await bobPage.getByTestId(`task-description-${p.tasks[2]!.id}`).waitFor();
  await bobPage.context().close();
});

test('a 412 on edit shows the newer version (task-conflict), and the retry saves', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Conflicts', [bob], ['Draft']);
  const task = p.tasks[0]!;
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}/tasks/${task.id}`);
  const title = page.getByTestId(`task-edit-title-${task.id}`);
  await title.waitFor();
  await live(page);
  await title.fill('Draft by Ada');

  // Bob changes the task meanwhile; Ada's card follows, her typing stays.
  await bob.client.tasks.update(task.id, { title: 'Draft by Bob', description: 'Bob was here' });
  await eventually(async () => (await boardOf(page)).get(task.id)?.version === 2);
  assert.equal(await title.inputValue(), 'Draft by Ada');

  await page.getByTestId(`task-save-${task.id}`).click();
  const conflict = page.getByTestId('task-conflict');
  await conflict.waitFor();
  const shown = await conflict.innerText();
  assert.match(shown, /Draft by Bob/);
  assert.match(shown, /Bob was here/);
  assert.match(shown, /version 2/);
  assert.match((await page.getByTestId('error-message').textContent()) ?? '', /modified/);

  await conflict.getByRole('button', { name: /retry/i }).click();
  await conflict.waitFor({ state: 'detached' });
  const saved = (await ada.client.tasks.get(task.id)).task;
  assert.equal(saved.title, 'Draft by Ada');
  assert.equal(saved.description, 'Bob was here', 'the retry sends only what Ada changed');
  assert.equal(saved.version, 3);
  await eventually(async () => (await boardOf(page)).get(task.id)?.version === 3);
  assert.equal(await page.getByTestId('error-message').count(), 0);
  await page.context().close();
});

/** Presses Tab until the element with this test id has the focus. */
async function tabTo(page: Page, testId: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => document.activeElement?.getAttribute('data-testid') === id, testId)) return;
  }
  throw new Error(`Tab never reached ${testId}`);
}

const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

test('a card moves with the keyboard alone, and the focus follows it', async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Keys', [], ['Press keys']);
  const id = p.tasks[0]!.id;
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  await live(page);
  // From the top of the page: the skip link first, then on to the card.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await tabTo(page, `task-card-${id}`);

  const column = async () => (await boardOf(page)).get(id)?.column;
  await page.keyboard.press('ArrowRight');
  await eventually(async () => (await column()) === 'in_progress');
  await eventually(async () => (await focused(page)) === `task-card-${id}`);
  await page.keyboard.press('ArrowRight');
  await eventually(async () => (await column()) === 'done');
  await eventually(async () => (await focused(page)) === `task-card-${id}`);
  await page.keyboard.press('ArrowRight'); // Done is the last column: nothing happens
  await page.keyboard.press('ArrowLeft');
  await eventually(async () => (await column()) === 'in_progress');
  await eventually(async () => (await focused(page)) === `task-card-${id}`);

  // The card's own buttons, reached with Tab and pressed with Enter.
  await tabTo(page, `task-move-${id}-todo`);
  await page.keyboard.press('Enter');
  await eventually(async () => (await column()) === 'todo');
  await eventually(async () => (await focused(page)) === `task-card-${id}`);
  // Moved by someone else meanwhile, the card keeps the focus in its new column.
  await ada.client.tasks.setStatus(id, 'done');
  await eventually(async () => (await column()) === 'done');
  await eventually(async () => (await focused(page)) === `task-card-${id}`);
  // Enter on the card opens it.
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/tasks/${id}$`));
  await page.keyboard.press('Escape');
  await page.waitForURL(new RegExp(`/projects/${p.id}$`));
  assert.equal((await ada.client.tasks.get(id)).task.status, 'done');
  await page.context().close();
});

test('drag and drop moves a card to another column', async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Drag', [], ['Drag me']);
  const id = p.tasks[0]!.id;
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  await live(page);
  // Grabbed where a test grabs it by default: the middle of the card.
  await page.getByTestId(`task-card-${id}`).dragTo(page.getByTestId("column-done"));
  await eventually(async () => (await boardOf(page)).get(id)?.column === 'done');
  assert.equal((await ada.client.tasks.get(id)).task.status, 'done');
  await page.context().close();
});

test('on a phone all three columns are on the page and scroll sideways', async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Phone', [], ['Small screen']);
  const id = p.tasks[0]!.id;
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`, {
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
  await live(page);
  for (const c of ['todo', 'in_progress', 'done']) assert.equal(await page.getByTestId(`column-${c}`).count(), 1);
  const board = page.getByTestId('board');
  const { scrollWidth, clientWidth } = await board.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
  assert.ok(scrollWidth > clientWidth, `the board scrolls sideways (${scrollWidth} > ${clientWidth})`);
  assert.ok(clientWidth <= 390);
  // The page itself does not scroll sideways: only the board does.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  await page.getByTestId(`task-move-${id}-done`).tap();
  await eventually(async () => (await boardOf(page)).get(id)?.column === 'done');
  await page.getByTestId('column-done').scrollIntoViewIfNeeded();
  await page.getByTestId(`task-card-${id}`).waitFor();
  await page.screenshot({ path: join(screenshotDir, 'board-phone.png') });
  await page.context().close();
});

async function seedBoard(): Promise<{ ada: ApiUser; grace: ApiUser; id: number }> {
  const ada = await newUser(s.server.url, 'ada.lovelace');
  const grace = await newUser(s.server.url, 'grace');
  const alan = await newUser(s.server.url, 'alan');
  const p = await newProject(ada, 'Website relaunch', [grace, alan]);
  const c = ada.client.tasks;
  const mk = (
    title: string,
    description: string | null,
    status: 'todo' | 'in_progress' | 'done',
    assignee: ApiUser | null,
    labels: string[] = [],
    dueInDays: number | null = null,
  ) =>
    c.create(p.id, {
      title,
      description,
      status,
      assignee_id: assignee?.id ?? null,
      labels,
      // Whole days from today at 17:00 UTC: past ones are overdue; none within a day, so no reminder rings.
      due_at: dueInDays === null ? null : new Date(Math.floor(Date.now() / 86_400_000 + dueInDays) * 86_400_000 + 17 * 3_600_000).toISOString(),
    });
  await mk('Fix login on Safari', 'The button does nothing on Safari 17.', 'in_progress', grace, ['bug', 'frontend'], 3);
  await mk('Write the release notes', null, 'todo', ada, ['docs'], 9);
  await mk('Choose a new logo', 'Three candidates in the shared folder.', 'todo', null, ['design'], -2);
  await mk('Set up the staging server', null, 'done', alan, ['ops']);
  await mk('Translate the pricing page', 'German and French first.', 'todo', grace, ['frontend']);
  await mk('Migrate the database', 'Dry run on a copy first.', 'in_progress', alan, ['ops', 'backend'], 6);
  const load = await mk('Load test the API', null, 'in_progress', ada, ['backend']);
  const t = (await c.list(p.id)).tasks.find((x) => x.title === 'Write the release notes')!;
  await grace.client.tasks.update(t.id, { description: 'Cover the new board and the bell.' });
  await grace.client.tasks.setStatus(load.id, 'done'); // Ada is told: one unread
  return { ada, grace, id: p.id };
}

test('screenshot of a board with a few tasks', async () => {
  const { ada, grace, id } = await seedBoard();
  const gracePage = await pageFor(s.browser, s.server.url, grace, `/app/projects/${id}`);
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${id}`);
  await live(page);
  await page.getByTestId(`presence-user-${grace.id}`).waitFor();
  await page.getByTestId('activity-list').getByText('grace moved Load test the API to Done').waitFor();
  assert.equal(await unread(page), 1);
  await page.mouse.move(0, 0);
  const file = join(screenshotDir, 'board.png');
  await page.screenshot({ path: file });
  if (process.env['TASKWIRE_DOCS_SCREENSHOT'] === '1') {
    copyFileSync(file, join(repoRoot, 'docs', 'board.png'));
    console.log('wrote docs/board.png');
  }
  console.log(`screenshots in ${screenshotDir}`);
  await page.context().close();
  await gracePage.context().close();
});
