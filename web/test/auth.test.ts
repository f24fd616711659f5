/**
 * Accounts in the browser: GET / lands on the app, sign-up and login
 * errors in error-message, logout, and deep links (a page, an email's task
 * link) that go through the login page and come back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newProject, newUser, uniqueName } from './helpers/api.ts';
import { contextFor, eventually, pageErrorsOf, trackErrors } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();

async function anonymousPage() {
  const ctx = await contextFor(s.browser, s.server.url, undefined);
  const page = await ctx.newPage();
  trackErrors(page);
  return page;
}

test('GET / from a browser lands on /app/ (an API client still gets JSON)', async () => {
  const res = await fetch(`${s.server.url}/`, {
    headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    redirect: 'manual',
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/app/');
  const api = await fetch(`${s.server.url}/`, { headers: { Accept: 'application/json' } });
  assert.match(api.headers.get('content-type') ?? '', /json/);

  const page = await anonymousPage();
  await page.goto('/');
  // Signed out, the app sends the browser on to its login page.
  await page.waitForURL(/\/app\/login$/);
  await page.getByTestId('login-username').waitFor();
  const app = await fetch(`${s.server.url}/app/`);
  assert.match(app.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
});

test('sign-up errors are shown in error-message, then signing up lands on the projects', async () => {
  const taken = await newUser(s.server.url);
  const page = await anonymousPage();
  await page.goto('/app/login');
  await page.getByTestId('signup-link').click();
  await page.waitForURL(/\/app\/signup$/);

  const username = uniqueName('sam');
  await page.getByTestId('signup-email').fill(`${taken.username}@example.com`);
  await page.getByTestId('signup-username').fill(username);
  await page.getByTestId('signup-password').fill('pw-123456');
  await page.getByTestId('signup-submit').click();
  assert.equal(await page.getByTestId('error-message').textContent(), 'Email already registered');

  await page.getByTestId('signup-email').fill(`${username}@example.com`);
  await page.getByTestId('signup-username').fill(taken.username);
  await page.getByTestId('signup-submit').click();
  await eventually(async () => (await page.getByTestId('error-message').textContent()) === 'Username already taken');

  await page.getByTestId('signup-email').fill('not-an-email');
  await page.getByTestId('signup-username').fill(username);
  await page.getByTestId('signup-submit').click();
  await eventually(async () => /email/i.test((await page.getByTestId('error-message').textContent()) ?? ''));
  // The message sits in the form that caused it.
  assert.equal(await page.locator('form [data-testid="error-message"]').count(), 1);

  await page.getByTestId('signup-email').fill(`${username}@example.com`);
  await page.getByTestId('signup-submit').click();
  await page.getByTestId('project-list').waitFor();
  assert.match(page.url(), /\/app\/$/);
  assert.equal(await page.getByTestId('error-message').count(), 0);
  assert.ok(await page.evaluate(() => localStorage.getItem('taskwire.token')), 'the token is kept in localStorage');
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
});

test('a wrong password is shown in error-message; logging in and out', async () => {
  const ada = await newUser(s.server.url);
  const page = await anonymousPage();
  await page.goto('/app/login');
  await page.getByTestId('login-username').fill(ada.username);
  await page.getByTestId('login-password').fill('wrong');
  await page.getByTestId('login-submit').click();
  assert.equal(await page.getByTestId('error-message').textContent(), 'Incorrect username or password');

  await page.getByTestId('login-password').fill(ada.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('project-list').waitFor();
  assert.equal(await page.getByTestId('error-message').count(), 0);

  // A reload stays signed in (the token is in localStorage).
  await page.reload();
  await page.getByTestId('project-list').waitFor();

  await page.getByTestId('logout').click();
  await page.waitForURL(/\/app\/login$/);
  assert.equal(await page.evaluate(() => localStorage.getItem('taskwire.token')), null);
  await page.goto('/app/');
  await page.waitForURL(/\/app\/login$/);
  await page.context().close();
});

test('a deep link goes through the login page and back to the page', async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Deep', [], ['Deep task']);
  const page = await anonymousPage();
  await page.goto(`/app/projects/${p.id}`);
  await page.waitForURL(/\/app\/login\?next=/);
  await page.getByTestId('login-username').fill(ada.username);
  await page.getByTestId('login-password').fill(ada.password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(new RegExp(`/app/projects/${p.id}$`));
  await page.getByTestId(`task-card-${p.tasks[0]!.id}`).waitFor();
  await page.context().close();
});

test("an email's task link opens that task after logging in (signing up on the way works too)", async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Mail', [], ['Reply to the email']);
  const task = p.tasks[0]!;
  await ada.client.tasks.update(task.id, { description: 'Sent by the email link' });

  const link = await fetch(`${s.server.url}/projects/${p.id}/tasks/${task.id}`, { redirect: 'manual' });
  assert.equal(link.status, 302);
  assert.equal(link.headers.get('location'), `/app/projects/${p.id}/tasks/${task.id}`);

  const page = await anonymousPage();
  await page.goto(`/projects/${p.id}/tasks/${task.id}`);
  await page.waitForURL(/\/app\/login\?next=/);
  await page.getByTestId('login-username').fill(ada.username);
  await page.getByTestId('login-password').fill(ada.password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(new RegExp(`/app/projects/${p.id}/tasks/${task.id}$`));
  assert.equal(await page.getByTestId(`task-description-${task.id}`).inputValue(), 'Sent by the email link');

  // The same link for someone without an account: sign up, then get there (a 403 page, as a stranger).
  const other = await anonymousPage();
  await other.goto(`/projects/${p.id}/tasks/${task.id}`);
  await other.getByTestId('signup-link').click();
  const name = uniqueName('new');
  await other.getByTestId('signup-email').fill(`${name}@example.com`);
  await other.getByTestId('signup-username').fill(name);
  await other.getByTestId('signup-password').fill('pw-123456');
  await other.getByTestId('signup-submit').click();
  await other.waitForURL(new RegExp(`/app/projects/${p.id}/tasks/${task.id}$`));

  await other.getByText('you are not one of its members').waitFor();
  await page.context().close();
  await other.context().close();
});

test('an expired or revoked token sends the page to the login form, which comes back', async () => {
  const ada = await newUser(s.server.url);
  const ctx = await contextFor(s.browser, s.server.url, { ...ada, token: 'not-a-token' });
  const page = await ctx.newPage();
  await page.goto('/app/');
  await page.waitForURL(/\/app\/login/);
  await page.getByTestId('login-username').fill(ada.username);
  await page.getByTestId('login-password').fill(ada.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('project-list').waitFor();
  await eventually(async () => (await page.getByTestId('connection-status').getAttribute('data-state')) === 'live');
  await ctx.close();
});
