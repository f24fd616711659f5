/**
 * Labels and due dates: labels added by typing and Enter, removed with
 * the chip's button (keyboard only), shown on every open board; the
 * board's label filter; a due date set in the person's time zone and sent
 * in UTC, shown on the card, "Overdue" for a past date until the task is
 * done; the assignee's reminder in words in the bell.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, newUser } from './helpers/api.ts';
import { boardOf, eventually, pageErrorsOf, pageFor } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();

const live = (page: Page) =>
  eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live', 10_000, 'live');
const chips = async (page: Page, id: number) =>
  (await page.getByTestId(`task-labels-${id}`).locator('li').allInnerTexts()).map((t) => t.trim());
const visibleCards = async (page: Page) => [...(await boardOf(page)).keys()].sort((a, b) => a - b);

test('labels: added with Enter, removed by keyboard, on every board; the board filters by label', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Labels', [bob], ['Fix login', 'Write docs', 'Pay invoices']);
  const [t1, t2, t3] = p.tasks.map((t) => t.id) as [number, number, number];
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}/tasks/${t1}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`);
  await live(page);
  await live(bobPage);

  // Typed and Enter: the chip appears on the card, on Bob's board too.
  const input = page.getByTestId(`label-input-${t1}`);
  await input.fill('bug');
  await input.press('Enter');
  await eventually(async () => (await chips(page, t1)).join() === 'bug', 5_000, 'bug on the card');
  await eventually(async () => (await chips(bobPage, t1)).join() === 'bug', 5_000, 'bug on Bob’s card');
  assert.equal(await input.inputValue(), '', 'the field is emptied');
  await input.fill('Urgent');
  await input.press('Enter');
  await eventually(async () => (await chips(page, t1)).join() === 'bug,Urgent', 5_000, 'two labels');
  // The same label in another case is not added twice (labels compare case-insensitively).
  await input.fill('BUG');
  await input.press('Enter');
  await eventually(async () => (await input.inputValue()) === '');
  assert.deepEqual((await ada.client.tasks.get(t1)).task.labels, ['bug', 'Urgent']);

  // Removed with the keyboard: Shift+Tab from the field reaches the last chip's button; the focus comes back to the field.
  await input.focus();
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Remove the label Urgent');
  await page.keyboard.press('Enter');
  await eventually(async () => (await chips(page, t1)).join() === 'bug', 5_000, 'Urgent removed');
  await eventually(async () => (await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))) === `label-input-${t1}`);
  assert.deepEqual((await ada.client.tasks.get(t1)).task.labels, ['bug']);
  await eventually(async () => (await chips(bobPage, t1)).join() === 'bug', 5_000, 'Urgent gone from Bob’s card');

  // Someone else's labels arrive live; the filter lists every label with its count.
  await bob.client.tasks.update(t2, { labels: ['bug', 'docs'] });
  await bob.client.tasks.update(t3, { labels: ['finance'] });
  const filter = page.getByTestId('label-filter');
  await eventually(async () => (await page.getByTestId('label-filter-bug').innerText()).includes('2'), 5_000, 'bug counted twice');
  assert.match(await page.getByTestId('label-filter-docs').innerText(), /docs\s*1/);
  assert.match(await page.getByTestId('label-filter-finance').innerText(), /finance\s*1/);

  // Filtering: only the tasks carrying the label; it says so; a second label narrows it (all must match).
  await page.getByTestId('label-filter-bug').click();
  await eventually(async () => (await visibleCards(page)).join() === [t1, t2].join(), 5_000, 'only bug tasks');
  assert.equal(await page.getByTestId('label-filter-bug').getAttribute('aria-pressed'), 'true');
  assert.match(await filter.innerText(), /Showing 2 of 3 tasks: labelled bug/);
  await page.getByTestId('label-filter-docs').click();
  await eventually(async () => (await visibleCards(page)).join() === String(t2), 5_000, 'only bug and docs');
  assert.match(await filter.innerText(), /Showing 1 of 3 tasks: labelled bug and docs/);
  // A task that gains the labels while the filter is on appears.
  await bob.client.tasks.update(t3, { labels: ['finance', 'Docs', 'BUG'] });
  await eventually(async () => (await visibleCards(page)).join() === [t2, t3].join(), 5_000, 't3 joins the filter');
  // Clearing shows everything again; Bob's board was never filtered.
  await page.getByTestId('label-filter-clear').click();
  await eventually(async () => (await visibleCards(page)).join() === [t1, t2, t3].join(), 5_000, 'all again');
  assert.equal(await page.getByTestId('label-filter-bug').getAttribute('aria-pressed'), 'false');
  assert.equal((await visibleCards(bobPage)).length, 3);
  // The filter matches what the API's ?label= answers.
  const api = await ada.client.tasks.list(p.id, { label: ['bug', 'docs'] });
  assert.deepEqual(api.tasks.map((t) => t.id).sort((a, b) => a - b), [t2, t3]);

  // Refused before asking the server: a label over 50 characters.
  await input.fill('x'.repeat(50));
  await input.evaluate((el: HTMLInputElement) => {
    el.value = 'y'.repeat(51);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await input.press('Enter');
  await page.getByTestId('error-message').getByText('at most 50 characters').waitFor();
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
  await bobPage.context().close();
});

test('due dates: local time in, UTC to the API, on the card, Overdue for a past date until done, the reminder in words', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Due', [bob], ['Ship it']);
  const id = p.tasks[0]!.id;
  await ada.client.tasks.update(id, { assignee_id: bob.id });
  // Ada works in New York (UTC−5 in early March, UTC−4 from the second Sunday).
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}/tasks/${id}`, { timezoneId: 'America/New_York', locale: 'en-US' });
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`, { timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  await live(page);
  await live(bobPage);
  const due = page.getByTestId(`task-due-${id}`);
  const label = page.getByTestId(`task-due-label-${id}`);
  assert.equal(await label.count(), 0, 'no due date, nothing on the card');

  await due.fill('2031-03-04T10:30');
  await due.blur();
  await eventually(async () => (await ada.client.tasks.get(id)).task.due_at === '2031-03-04T15:30:00Z', 5_000, 'due_at in UTC');
  await eventually(async () => (await label.getAttribute('data-overdue')) === 'false');
  assert.match(await label.innerText(), /^Due Mar 4, 2031, 10:30/);
  // Bob, in Berlin, sees the same moment in his time: 16:30.
  await eventually(async () => /4 Mar 2031, 16:30/.test(await bobPage.getByTestId(`task-due-label-${id}`).innerText()), 5_000, 'Berlin time');
  // After the summer-time change, the offset follows: 10:30 in New York on 20 March is 14:30 UTC.
  await due.fill('2031-03-20T10:30');
  await due.press('Enter');
  await eventually(async () => (await ada.client.tasks.get(id)).task.due_at === '2031-03-20T14:30:00Z', 5_000, 'DST offset');

  // A past date: Overdue, in words, on the card (not colour alone).
  await due.fill('2020-01-02T09:00');
  await due.blur();
  await eventually(async () => (await label.getAttribute('data-overdue')) === 'true', 5_000, 'overdue');
  assert.match(await label.innerText(), /Overdue/);
  const bobLabel = bobPage.getByTestId(`task-due-label-${id}`);
  await eventually(async () => (await bobLabel.getAttribute('data-overdue')) === 'true');
  assert.equal((await ada.client.tasks.list(p.id, { overdue: 'true' })).tasks.length, 1, 'the API agrees');
  // Done: no longer overdue.
  await ada.client.tasks.setStatus(id, 'done');
  await eventually(async () => (await label.getAttribute('data-overdue')) === 'false', 5_000, 'done is not overdue');
  assert.doesNotMatch(await label.innerText(), /Overdue/);
  await ada.client.tasks.setStatus(id, 'in_progress');

  // A reload shows the stored value back in local time.
  await page.reload();
  await eventually(async () => (await page.getByTestId(`task-due-${id}`).inputValue()) === '2020-01-02T09:00', 5_000, 'local value after reload');

  // Clear removes it.
  await page.getByTestId(`task-due-clear-${id}`).click();
  await eventually(async () => (await ada.client.tasks.get(id)).task.due_at === null, 5_000, 'cleared');
  await label.waitFor({ state: 'detached' });

  // Due in two hours: the reminder's moment has passed, so Bob (the assignee) is reminded at once, in words.
  const soon = new Date(Date.now() + 2 * 3600_000);
  soon.setSeconds(0, 0);
  await ada.client.tasks.update(id, { due_at: soon.toISOString() });
  await eventually(
    async () => (await bob.client.notifications.list()).notifications.some((n) => (n.type as string) === 'task_due_soon'),
    15_000,
    'the reminder',
  );
  await bobPage.getByTestId('notification-bell').click();
  await bobPage.getByTestId('notification-list').getByText(/Ship it is due /).waitFor();
  assert.deepEqual(pageErrorsOf(page), []);
  assert.deepEqual(pageErrorsOf(bobPage), []);
  await page.context().close();
  await bobPage.context().close();
});
