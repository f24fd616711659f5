/**
 * Accessibility: axe-core on each main page and state (no serious or
 * critical violation), a label on every control, and a focus order that
 * follows the page.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, newUser } from './helpers/api.ts';
import { axe, contextFor, eventually, pageFor } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();
const summary: Record<string, string> = {};
after(() => console.log(`axe (wcag2a/aa, wcag21a/aa, wcag22aa, best-practice): ${JSON.stringify(summary, null, 1)}`));

async function check(page: Page, name: string): Promise<void> {
  const { serious, all, passes } = await axe(page);
  const minor = all.filter((v) => !serious.includes(v)).map((v) => `${v.id} (${v.impact})`);
  summary[name] = `${serious.length} serious/critical, ${minor.length ? `other: ${minor.join(', ')}` : 'no other'} violation; ${passes} rules passed`;
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${name}`,
  );
  // Every visible form control has an accessible name (axe checks this too; this says which one).
  const unnamed = await page.$$eval('input, select, textarea, button', (els) =>
    els
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .filter((el) => {
        const e = el as HTMLInputElement;
        const label = e.labels?.length ? Array.from(e.labels, (l) => l.textContent).join('') : '';
        return !(e.getAttribute('aria-label') || label.trim() || (el.tagName === 'BUTTON' && el.textContent?.trim()));
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, [], `controls without a name on ${name}`);
}

/** The data-testid (or text) of each element the Tab key reaches, in order. */
async function tabOrder(page: Page, presses: number): Promise<string[]> {
  const order: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    order.push(
      await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.getAttribute('data-testid') ?? el?.textContent?.trim() ?? '';
      }),
    );
  }
  return order;
}

test('axe finds no serious or critical violation on any main page', { timeout: 120_000 }, async () => {
  const ada = await newUser(s.server.url, 'ada');
  const bob = await newUser(s.server.url, 'bob');
  const p = await newProject(ada, 'Accessible', [bob], ['Read the guidelines', 'Check the contrast', 'Label every control']);
  await ada.client.tasks.update(p.tasks[0]!.id, { assignee_id: bob.id, description: 'WCAG 2.2 AA' });
  await ada.client.tasks.setStatus(p.tasks[1]!.id, 'in_progress');
  await bob.client.tasks.setStatus(p.tasks[0]!.id, 'done'); // a notification for Ada

  const anon = await (await contextFor(s.browser, s.server.url, undefined, { bypassCSP: true })).newPage();
  await anon.goto('/app/login');
  await anon.getByTestId('login-username').waitFor();
  await check(anon, 'login');
  assert.deepEqual(await tabOrder(anon, 4), ['login-username', 'login-password', 'login-submit', 'signup-link']);
  await anon.getByTestId('login-submit').click();
  await anon.getByTestId('error-message').waitFor();
  await check(anon, 'login with an error');
  await anon.getByTestId('signup-link').click();
  await anon.getByTestId('signup-email').waitFor();
  await check(anon, 'signup');
  await anon.context().close();

  const page = await pageFor(s.browser, s.server.url, ada, '/app/', { bypassCSP: true });
  await page.getByTestId(`project-item-${p.id}`).waitFor();
  await check(page, 'projects');
  // The skip link comes first, then the header, then the page.
  assert.deepEqual((await tabOrder(page, 7)).slice(0, 7), ['Skip to content', 'Taskwire', 'Projects', 'search-input', 'notification-bell', 'logout', 'new-project-name']);

  await page.getByTestId(`project-item-${p.id}`).click();
  await eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live', 10_000);
  await page.getByTestId('activity-list').getByText('moved').first().waitFor();
  await check(page, 'board');
  // Freshly loaded, Tab goes from the header to the new-task form, then card by card, column by column.
  await page.reload();
  await page.getByTestId(`task-card-${p.tasks[2]!.id}`).waitFor();
  const [todo, doing] = [p.tasks[2]!.id, p.tasks[1]!.id];
  assert.deepEqual(await tabOrder(page, 17), [
    'Skip to content', 'Taskwire', 'Projects', 'search-input', 'notification-bell', 'logout', 'new-task-title', 'new-task-submit',
    `task-card-${todo}`, `task-assignee-${todo}`, `task-delete-${todo}`, `task-title-${todo}`, `task-move-${todo}-in_progress`, `task-move-${todo}-done`,
    `task-card-${doing}`, `task-assignee-${doing}`, `task-delete-${doing}`,
  ]);
  await eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live', 10_000);

  await page.getByTestId('notification-bell').click();
  await page.getByTestId('notification-list').waitFor();
  await check(page, 'board with the inbox open');
  await page.keyboard.press('Escape');

  await page.getByTestId(`task-title-${p.tasks[0]!.id}`).click();
  await page.getByTestId(`task-description-${p.tasks[0]!.id}`).waitFor();
  await check(page, 'task view');
  await page.getByTestId('new-task-submit').click(); // an empty title: an error next to the form
  await page.getByTestId('error-message').waitFor();
  await check(page, 'board with an error');
  await page.context().close();

  const phone = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`, {
    bypassCSP: true,
    viewport: { width: 390, height: 844 },
    isMobile: true,
  });
  await phone.getByTestId('board').waitFor();
  await phone.getByTestId('activity-list').getByText('moved').first().waitFor();
  await check(phone, 'board on a phone (member)');
  await phone.context().close();
});

test('axe: the task view with labels, an overdue date and comments (the mention list open), a filtered board', { timeout: 60_000 }, async () => {
  const ada = await newUser(s.server.url, 'ada.a11y');
  const bob = await newUser(s.server.url, 'bob.a11y');
  const p = await newProject(ada, 'Reviewed', [bob], ['Audit the forms', 'Check the focus order']);
  const [t1, t2] = [p.tasks[0]!.id, p.tasks[1]!.id];
  await ada.client.tasks.update(t1, { labels: ['a11y', 'forms'], due_at: '2024-05-01T09:00:00Z', assignee_id: bob.id });
  await ada.client.tasks.update(t2, { labels: ['a11y'], due_at: '2999-01-01T09:00:00Z' });
  await ada.client.comments.create(t1, { body: '@bob.a11y can you check the labels?' });
  await bob.client.comments.create(t1, { body: 'Done: see the report, @ada.a11y.' });

  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}/tasks/${t1}`, { bypassCSP: true });
  await page.getByTestId(`comment-list-${t1}`).locator('mark.mention').nth(1).waitFor();
  await page.getByTestId('label-filter-a11y').waitFor();
  await check(page, 'task view with labels, due date and comments');

  const input = page.getByTestId(`comment-input-${t1}`);
  await input.focus();
  await page.keyboard.type('Thanks @b');
  await page.getByTestId('mention-options').waitFor();
  await check(page, 'task view with the mention list open');
  await page.keyboard.press('Escape');
  await page.getByTestId(`comment-edit-${(await ada.client.comments.list(t1)).comments[0]!.id}`).click();
  await check(page, 'a comment being edited');

  await page.getByTestId('label-filter-forms').click();
  await page.getByTestId('label-filter-clear').waitFor();
  await check(page, 'board filtered by label');
  await page.context().close();
});

test('axe: search results, and none', async () => {
  const ada = await newUser(s.server.url, 'ada.search');
  const p = await newProject(ada, 'Searchable', [], ['Check the focus order', 'Check the contrast']);
  await ada.client.tasks.update(p.tasks[0]!.id, { description: 'Tab through every dialog.' });
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`, { bypassCSP: true });
  const input = page.getByTestId('search-input');
  await input.fill('check');
  await page.getByTestId(`search-result-${p.tasks[1]!.id}`).waitFor();
  await input.press('ArrowDown');
  await check(page, 'search results');
  await input.fill('nothingatall');
  await page.getByTestId('search-results').getByText('No task matches').waitFor();
  await check(page, 'search without results');
  await page.context().close();
});

test('axe: an invitation link signed out, refused signed in, and the owner\'s invitations', { timeout: 60_000 }, async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Invites');
  await ada.client.invitations.create(p.id, 'someone@example.com');

  const anon = await (await contextFor(s.browser, s.server.url, undefined, { bypassCSP: true })).newPage();
  await anon.goto('/app/invite/some-token');
  await anon.getByTestId('invite-welcome').waitFor();
  await check(anon, 'invitation link, signed out');
  await anon.context().close();

  const page = await pageFor(s.browser, s.server.url, bob, '/app/invite/some-token', { bypassCSP: true });
  await page.getByTestId('error-message').waitFor();
  await check(page, 'invitation refused');
  await page.context().close();

  const owner = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`, { bypassCSP: true });
  await owner.getByTestId('invitation-list').waitFor();
  await check(owner, 'invitations panel');
  await owner.context().close();
});
