/**
 * Invitations by email: the owner invites from the project's side panel
 * (errors shown) and withdraws; the invitee opens the emailed link signed
 * out, signs up (or logs in) and lands on the project, whose owner sees
 * the invitation accepted and is told in the bell; a used, withdrawn or
 * someone else's invitation says why.
 *
 * The server has no SMTP_URL: emails are written to its log, where the
 * tests read the link, as a person reads it in their mailbox.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { apiClient, newProject, newUser, uniqueName, type ApiUser } from './helpers/api.ts';
import { contextFor, eventually, pageErrorsOf, pageFor, trackErrors } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite({ LOG_LEVEL: 'info' });

/** The token of the newest invitation emailed to `email`, from the server's log. */
async function emailedToken(email: string, after = ''): Promise<string> {
  return eventually(
    () => {
      let token: string | undefined;
      for (const line of s.server.log().split('\n')) {
        if (!line.includes(`"to":"${email}"`)) continue;
        const m = /\/app\/invite\/([A-Za-z0-9_-]+)/.exec(line);
        if (m && m[1] !== after) token = m[1];
      }
      return token;
    },
    20_000,
    `the invitation email to ${email}`,
  );
}

/** A page of a browser with no session. */
async function anonymousPage(path: string): Promise<Page> {
  const ctx = await contextFor(s.browser, s.server.url, undefined);
  const page = await ctx.newPage();
  trackErrors(page);
  await page.goto(path);
  return page;
}

/** A user whose email is `email` (signed up over the API). */
async function userWithEmail(email: string): Promise<ApiUser> {
  const username = uniqueName('inv');
  const password = 'correct-horse-battery';
  const client = apiClient(s.server.url);
  const user = await client.auth.signup({ email, username, password });
  const { access_token } = await client.auth.login({ username, password });
  return { id: user.id, username, password, token: access_token, client };
}

test('the owner invites by email; the invitee signs up through the link and lands on the project', async () => {
  const ada = await newUser(s.server.url);
  const bob = await newUser(s.server.url);
  const p = await newProject(ada, 'Launch', [bob]);
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  await adaPage.getByTestId('board').waitFor();
  const form = adaPage.locator('form:has([data-testid="invite-email"])');

  // Errors, next to the form: a bad address (422), a member's address (409).
  await adaPage.getByTestId('invite-email').fill('not an address');
  await adaPage.getByTestId('invite-submit').click();
  await form.getByTestId('error-message').waitFor();
  assert.match((await form.getByTestId('error-message').textContent()) ?? '', /email/i);
  await adaPage.getByTestId('invite-email').fill(`${bob.username.toUpperCase()}@example.com`);
  await adaPage.getByTestId('invite-submit').click();
  await eventually(async () => (await form.getByTestId('error-message').textContent()) === 'This address belongs to a member of this project');

  const email = `${uniqueName('newbie')}@example.com`;
  await adaPage.getByTestId('invite-email').fill(email);
  await adaPage.getByTestId('invite-submit').click();
  const [inv] = await eventually(async () => {
    const list = await ada.client.invitations.list(p.id);
    return list.length === 1 ? list : undefined;
  });
  const row = adaPage.getByTestId(`invitation-${inv!.id}`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'pending');
  assert.match((await row.textContent()) ?? '', new RegExp(email.replace('.', '\\.')));
  assert.equal(await adaPage.getByTestId('invite-email').inputValue(), '');
  assert.equal(await adaPage.getByTestId('error-message').count(), 0);

  // The invitee opens the emailed link without an account.
  const token = await emailedToken(email);
  const page = await anonymousPage(`/app/invite/${token}`);
  await page.getByTestId('invite-welcome').waitFor();
  await page.getByTestId('invite-signup').click();
  await page.waitForURL(/\/app\/signup\?next=/);
  const username = uniqueName('newbie');
  await page.getByTestId('signup-email').fill(email);
  await page.getByTestId('signup-username').fill(username);
  await page.getByTestId('signup-password').fill('correct-horse-battery');
  await page.getByTestId('signup-submit').click();
  await page.waitForURL(new RegExp(`/app/projects/${p.id}$`));
  await page.getByTestId('board').waitFor();
  assert.equal(await page.locator('h1').textContent(), 'Launch');
  await page.getByTestId('member-list').getByText(username).waitFor();
  await page.getByTestId(`project-item-${p.id}`).count(); // the home list is reloaded in the background

  // The owner sees the invitation accepted and the new member, live, and is told.
  await adaPage.getByTestId('member-list').getByText(username).waitFor();
  await eventually(async () => (await row.getAttribute('data-state')) === 'accepted');
  await eventually(async () => (await adaPage.getByTestId('notification-bell').getAttribute('data-unread')) === '1');
  await adaPage.getByTestId('notification-bell').click();
  await adaPage.getByTestId('notification-list').getByText(`${username} accepted your invitation and joined Launch`).waitFor();

  // The link works once.
  await page.goto(`/app/invite/${token}`);
  await eventually(async () => (await page.getByTestId('error-message').textContent()) === 'Invitation is no longer valid');
  assert.equal(await page.getByTestId('invite-page').getAttribute('data-state'), 'gone');

  assert.deepEqual(pageErrorsOf(adaPage), []);
  assert.deepEqual(pageErrorsOf(page), []);
  await adaPage.context().close();
  await page.context().close();
});

test("someone else's invitation says so; switching to the invited account (log in) joins", async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Ops');
  const carolEmail = `${uniqueName('carol')}@example.com`;
  const carol = await userWithEmail(carolEmail);
  const bob = await newUser(s.server.url);
  await ada.client.invitations.create(p.id, carolEmail.toUpperCase());
  const token = await emailedToken(carolEmail.toUpperCase());

  // Bob, signed in, opens carol's link.
  const page = await pageFor(s.browser, s.server.url, bob, `/app/invite/${token}`);
  await eventually(async () => (await page.getByTestId('error-message').textContent()) === 'This invitation is for another email address');
  assert.equal(await page.getByTestId('invite-page').getAttribute('data-state'), 'other');
  assert.deepEqual((await ada.client.projects.get(p.id)).members.map((m) => m.user_id), [ada.id]);

  // Another account: signed out, back on the link, log in as carol.
  await page.getByTestId('invite-switch-account').click();
  await page.getByTestId('invite-welcome').waitFor();
  await page.getByTestId('invite-login').click();
  await page.getByTestId('login-username').fill(carol.username);
  await page.getByTestId('login-password').fill(carol.password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(new RegExp(`/app/projects/${p.id}$`));
  await page.getByTestId('board').waitFor();
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
});

test('a withdrawn invitation is refused; the owner removes it from the list', async () => {
  const ada = await newUser(s.server.url);
  const p = await newProject(ada, 'Side');
  const email = `${uniqueName('dee')}@example.com`;
  const dee = await userWithEmail(email);
  const adaPage = await pageFor(s.browser, s.server.url, ada, `/app/projects/${p.id}`);
  await adaPage.getByTestId('invite-email').fill(email);
  await adaPage.getByTestId('invite-submit').click();
  const token = await emailedToken(email);
  const [inv] = await ada.client.invitations.list(p.id);
  await adaPage.getByTestId(`invitation-revoke-${inv!.id}`).click();
  await adaPage.getByTestId(`invitation-${inv!.id}`).waitFor({ state: 'detached' });
  assert.deepEqual(await ada.client.invitations.list(p.id), []);

  const page = await pageFor(s.browser, s.server.url, dee, `/app/invite/${token}`);
  await eventually(async () => (await page.getByTestId('error-message').textContent()) === 'Invitation is no longer valid');
  assert.match((await page.getByTestId('invite-page').textContent()) ?? '', /Ask the project's owner to invite you again/);
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
  await adaPage.context().close();
});
