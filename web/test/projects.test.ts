/**
 * Projects and members: create, rename and delete (the owner); add a
 * member by username, remove one, leave; each seen live by the others.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProject, newUser } from './helpers/api.ts';
import { eventually, pageErrorsOf, pageFor } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();

test('create a project, open it, rename it; the list follows', async () => {
  const ada = await newUser(s.server.url);
  const page = await pageFor(s.browser, s.server.url, ada, '/app/');
  await page.getByTestId('project-list').waitFor();

  // An empty name is refused before asking the server, shown next to the form.
  await page.getByTestId('new-project-submit').click();
  assert.equal(await page.locator('form:has([data-testid="new-project-name"]) [data-testid="error-message"]').textContent(), 'Give the project a name.');

  await page.getByTestId('new-project-name').fill('Launch');
  await page.getByTestId('new-project-submit').click();
  // The click sends the create; wait for it to have been made.
  const created = await eventually(async () => (await ada.client.projects.list()).projects[0]);
  const item = page.getByTestId(`project-item-${created.id}`);
  await item.waitFor();
  assert.match((await item.textContent()) ?? '', /Launch/);
  assert.equal(await page.getByTestId('error-message').count(), 0);
  assert.equal(await page.getByTestId('new-project-name').inputValue(), '');

  await item.click();
  await page.waitForURL(new RegExp(`/app/projects/${created.id}$`));
  await page.getByTestId('board').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Launch');

  await page.getByTestId('project-rename').fill('Launch v2');
  await page.getByTestId('project-rename').press('Enter');
  await eventually(async () => (await page.locator('h1').textContent()) === 'Launch v2');
  assert.equal((await ada.client.projects.get(created.id)).project.name, 'Launch v2');
  await eventually(async () => /Launch v2/.test((await page.getByTestId('activity-list').textContent()) ?? ''));

  // An empty name is a 422, shown next to the rename field.
  await page.getByTestId('project-rename').fill('');
  await page.getByTestId('project-rename').press('Enter');
  await page.locator('section:has([data-testid="project-rename"]) [data-testid="error-message"]').waitFor();

  await page.getByTestId('logout').click();
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
});

test('the owner adds a member by username (errors shown), who sees the project arrive live', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Team');
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, '/app/');
  await bobPage.getByTestId('project-list').waitFor();
  await adaPage.getByTestId('board').waitFor();

  await adaPage.getByTestId('member-add-username').fill('nobody-by-that-name');
  await adaPage.getByTestId('member-add-submit').click();
  assert.equal(await adaPage.getByTestId('error-message').textContent(), 'User not found');

  await adaPage.getByTestId('member-add-username').fill(bob.username);
  await adaPage.getByTestId('member-add-submit').click();
  await adaPage.getByTestId('member-list').getByText(bob.username).waitFor();
  assert.equal(await adaPage.getByTestId('error-message').count(), 0);

  // Adding twice: the server's 400 message.
  await adaPage.getByTestId('member-add-username').fill(bob.username);
  await adaPage.getByTestId('member-add-submit').click();
  assert.equal(await adaPage.getByTestId('error-message').textContent(), 'User is already a member of this project');

  // Bob was told (bell) and his project list shows the project, without a reload.
  await bobPage.getByTestId(`project-item-${p.id}`).waitFor();
  await eventually(async () => (await bobPage.getByTestId('notification-bell').getAttribute('data-unread')) === '1');
  await bobPage.getByTestId('notification-bell').click();
  await bobPage.getByTestId('notification-list').getByText(`${ada.username} added you to Team`).waitFor();

  // A member sees no owner controls, and can leave.
  await bobPage.getByTestId(`project-item-${p.id}`).click();
  await bobPage.getByTestId('board').waitFor();
  assert.equal(await bobPage.getByTestId('project-rename').count(), 0);
  assert.equal(await bobPage.getByTestId('project-delete').count(), 0);
  assert.equal(await bobPage.getByTestId(`member-remove-${ada.id}`).count(), 0);
  await bobPage.getByTestId('project-leave').waitFor();
  await adaPage.context().close();
  await bobPage.context().close();
});

test('remove a member (their open board closes), and a member leaves', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const carol = await newUser(s.server.url);
  const p = await newProject(ada, 'Crew', [bob, carol], ['Bob task']);
  await ada.client.tasks.update(p.tasks[0]!.id, { assignee_id: bob.id });
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`);
  const carolPage = await pageFor(s.browser, s.server.url, carol, `/app/projects/${p.id}`);
  for (const page of [adaPage, bobPage, carolPage]) await page.getByTestId('board').waitFor();
  await adaPage.getByTestId(`presence-user-${bob.id}`).waitFor();

  await adaPage.getByTestId(`member-remove-${bob.id}`).click();
  await bobPage.getByText('You are no longer a member of this project.').waitFor();
  await adaPage.getByTestId(`member-remove-${bob.id}`).waitFor({ state: 'detached' });
  // Bob's task was unassigned, on every board.
  await eventually(async () => (await carolPage.getByTestId(`task-assignee-${p.tasks[0]!.id}`).inputValue()) === '');
  await eventually(async () => /removed/.test((await carolPage.getByTestId('activity-list').textContent()) ?? ''));

  await carolPage.getByTestId('project-leave').click();
  await carolPage.waitForURL(/\/app\/$/);
  await carolPage.getByTestId('project-list').waitFor();
  assert.equal(await carolPage.getByTestId(`project-item-${p.id}`).count(), 0);
  await adaPage.getByTestId(`member-remove-${carol.id}`).waitFor({ state: 'detached' });
  await eventually(async () => /left the project/.test((await adaPage.getByTestId('activity-list').textContent()) ?? ''));
  const { members } = await ada.client.projects.get(p.id);
  assert.deepEqual(members.map((m) => m.user_id), [ada.id]);
  for (const page of [adaPage, bobPage, carolPage]) await page.context().close();
});

test('the owner deletes a project; a member looking at it is told', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Doomed', [bob], ['One']);
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  const bobPage = await pageFor(s.browser, s.server.url, bob, `/app/projects/${p.id}`);
  await adaPage.getByTestId('board').waitFor();
  await bobPage.getByTestId('board').waitFor();

  await adaPage.getByTestId('project-delete').click();
  await adaPage.waitForURL(/\/app\/$/);
  await adaPage.getByTestId('project-list').waitFor();
  assert.equal(await adaPage.getByTestId(`project-item-${p.id}`).count(), 0);
  await bobPage.getByText('This project was deleted.').waitFor();
  assert.deepEqual((await ada.client.projects.list()).projects, []);
  await adaPage.context().close();
  await bobPage.context().close();
});
