/**
 * Comments in the task view: two people on the same task; one mentions
 * the other, picking the name from the @-autocomplete with the keyboard
 * alone; the other's panel shows it live, the mention highlighted, and
 * their bell says so in words. Edits and deletions reach the other panel
 * too; only the author edits, the author or the project's owner deletes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { newProject, newUser } from './helpers/api.ts';
import { eventually, pageErrorsOf, pageFor, screenshotDir } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();

const live = (page: Page) =>
  eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live', 10_000, 'live');
const unread = async (page: Page) => Number(await page.getByTestId('notification-bell').getAttribute('data-unread'));
const active = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

test('a mention picked by keyboard reaches the other person live, highlighted, and in their bell', async () => {
  const ada = await newUser(s.server.url, 'ada');
  const bob = await newUser(s.server.url, 'bob');
  const bobbie = await newUser(s.server.url, 'bobbie');
  const carol = await newUser(s.server.url, 'carol');
  const p = await newProject(ada, 'Comments', [bob, bobbie, carol], ['Fix login']);
  const id = p.tasks[0]!.id;
  await ada.client.tasks.update(id, { assignee_id: carol.id }); // Carol hears of comments on her task
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}/tasks/${id}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}/tasks/${id}`);
  await live(adaPage);
  await live(bobPage);
  await bobPage.getByTestId(`comment-list-${id}`).getByText('No comments yet.').waitFor();
  const bell0 = await unread(bobPage);
  await bobPage.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  // Ada types "@bo": Bob and Bobbie are offered; Down, Up, then Enter picks Bob. The focus never leaves the field.
  const input = adaPage.getByTestId(`comment-input-${id}`);
  await input.focus();
  await adaPage.keyboard.type('Could @bo');
  const options = adaPage.getByTestId('mention-options');
  await options.waitFor();
  assert.equal(await options.getAttribute('role'), 'listbox');
  assert.deepEqual(await options.getByRole('option').allInnerTexts(), ['@bob', '@bobbie']);
  assert.equal(await input.getAttribute('aria-activedescendant'), `comment-input-${id}-mention-${bob.id}`);
  await adaPage.keyboard.press('ArrowDown');
  assert.equal(await input.getAttribute('aria-activedescendant'), `comment-input-${id}-mention-${bobbie.id}`);
  assert.equal(await options.getByRole('option', { name: '@bobbie' }).getAttribute('aria-selected'), 'true');
  await adaPage.keyboard.press('ArrowUp');
  await adaPage.keyboard.press('Enter');
  await options.waitFor({ state: 'detached' });
  assert.equal(await input.inputValue(), 'Could @bob ');
  assert.equal(await active(adaPage), `comment-input-${id}`);
  // Escape closes the suggestions, not the task view.
  await adaPage.keyboard.type('and @car');
  await options.getByRole('option', { name: '@carol' }).waitFor();
  await adaPage.keyboard.press('Escape');
  await options.waitFor({ state: 'detached' });
  assert.match(adaPage.url(), new RegExp(`/tasks/${id}$`));
  for (let i = 0; i < '@car'.length; i++) await adaPage.keyboard.press('Backspace');
  await adaPage.keyboard.type('please look at the redirect');
  await adaPage.keyboard.press('Enter');
  await eventually(async () => (await input.inputValue()) === '', 5_000, 'the field emptied after posting');

  const [c] = (await ada.client.comments.list(id)).comments;
  assert.ok(c);
  assert.equal(c.body, 'Could @bob and please look at the redirect');
  assert.deepEqual(c.mentions, [bob.id]);

  // Bob's panel shows it live, the mention highlighted; his bell rings with the words.
  const bobComment = bobPage.getByTestId(`comment-${c.id}`);
  await bobComment.waitFor({ timeout: 3_000 });
  assert.equal(await bobComment.locator('mark.mention').innerText(), '@bob');
  assert.match(await bobComment.innerText(), /ada[\s\S]*Could @bob and please look at the redirect/);
  await eventually(async () => (await unread(bobPage)) === bell0 + 1, 5_000, 'Bob’s bell');
  await bobPage.getByTestId('notification-bell').click();
  await bobPage.getByTestId('notification-list').getByText('ada mentioned you in a comment on Fix login').waitFor();
  await bobPage.keyboard.press('Escape');
  // Carol, the assignee, is told too (not mentioned: "commented on").
  await eventually(
    async () => (await carol.client.notifications.list()).notifications.some((n) => (n.type as string) === 'task_commented'),
    5_000,
    'Carol’s notification',
  );
  const carolPage = await pageFor(s.browser, s.server.url, carol, '/app/');
  await carolPage.getByTestId('notification-bell').click();
  await carolPage.getByTestId('notification-list').getByText('ada commented on Fix login').waitFor();
  await carolPage.context().close();

  // Only the author edits; Bob (neither author nor owner) cannot delete Ada's comment either.
  assert.equal(await bobComment.getByTestId(`comment-edit-${c.id}`).count(), 0);
  assert.equal(await bobComment.getByTestId(`comment-delete-${c.id}`).count(), 0);
  await adaPage.getByTestId(`comment-edit-${c.id}`).click();
  const edit = adaPage.getByTestId(`comment-edit-input-${c.id}`);
  await eventually(async () => (await active(adaPage)) === `comment-edit-input-${c.id}`, 2_000, 'the edit field has the focus');
  await edit.fill('Could @bob and @bobbie please look at the redirect');
  // Tab picks too: retype the last mention to check.
  await edit.press('End');
  await adaPage.keyboard.type(' cc @bobb');
  await options.waitFor();
  await adaPage.keyboard.press('Tab');
  assert.equal(await edit.inputValue(), 'Could @bob and @bobbie please look at the redirect cc @bobbie ');
  await adaPage.getByTestId(`comment-save-${c.id}`).click();
  await eventually(async () => /cc @bobbie/.test(await bobComment.innerText()), 3_000, 'the edit on Bob’s panel');
  assert.deepEqual(await bobComment.locator('mark.mention').allInnerTexts(), ['@bob', '@bobbie', '@bobbie']);
  assert.match(await bobComment.innerText(), /edited/);

  // Bob replies; Ada, the project's owner, may delete his comment; it goes from both panels.
  await bobPage.getByTestId(`comment-input-${id}`).fill('On it.');
  await bobPage.getByTestId(`comment-submit-${id}`).click();
  const reply = await eventually(async () => (await bob.client.comments.list(id)).comments.find((x) => x.body === 'On it.'));
  await adaPage.getByTestId(`comment-${reply.id}`).waitFor({ timeout: 3_000 });
  const order = await adaPage.getByTestId(`comment-list-${id}`).locator(':scope > li').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
  assert.deepEqual(order, [`comment-${c.id}`, `comment-${reply.id}`], 'oldest first');
  assert.equal(await adaPage.getByTestId(`comment-edit-${reply.id}`).count(), 0, 'the owner does not edit others’ comments');
  await adaPage.screenshot({ path: join(screenshotDir, 'comments.png') });
  await adaPage.getByTestId(`comment-delete-${reply.id}`).click();
  await bobPage.getByTestId(`comment-${reply.id}`).waitFor({ state: 'detached', timeout: 3_000 });
  await adaPage.getByTestId(`comment-${reply.id}`).waitFor({ state: 'detached' });
  assert.equal(await active(adaPage), `comment-input-${id}`, 'the focus goes to the comment field');

  // Nothing reloaded Bob's page.
  assert.equal(await bobPage.evaluate(() => (window as unknown as { marker?: number }).marker), 7);
  assert.deepEqual(pageErrorsOf(adaPage), []);
  assert.deepEqual(pageErrorsOf(bobPage), []);
  await adaPage.context().close();
  await bobPage.context().close();
});

test('comments made while the board was away arrive after it reconnects', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Away', [bob], ['Offline comments']);
  const id = p.tasks[0]!.id;
  const page = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}/tasks/${id}`);
  await live(page);
  await page.getByTestId(`comment-list-${id}`).getByText('No comments yet.').waitFor();
  await page.context().setOffline(true);
  await eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) !== 'live', 10_000);
  const one = await bob.client.comments.create(id, { body: 'First while you were away' });
  const two = await bob.client.comments.create(id, { body: 'Second' });
  await bob.client.comments.update(one.id, { body: 'First, edited while you were away' });
  await page.context().setOffline(false);
  await live(page);
  await eventually(async () => (await page.getByTestId(`comment-${one.id}`).innerText()).includes('edited while you were away'), 10_000, 'the edit');
  await page.getByTestId(`comment-${two.id}`).waitFor();
  await page.context().close();
});
