/**
 * The header's search: a word of a task's description finds it across the
 * person's projects (never another's), each result with its project and
 * snippet; the keyboard (Down, Enter) or a click opens the task.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { newProject, newUser } from './helpers/api.ts';
import { eventually, pageErrorsOf, pageFor, screenshotDir } from './helpers/browser.ts';
import { useSuite } from './helpers/suite.ts';

const s = useSuite();

test('search finds a task by a word of its description and opens it', async () => {
  const ada = await newUser(s.server.url);
  const eve = await newUser(s.server.url);
  const web = await newProject(ada, 'Website', [], ['Fix login', 'Write the release notes']);
  const ops = await newProject(ada, 'Operations', [], ['Renew certificates']);
  const theirs = await newProject(eve, 'Not Ada’s', [], ['Safari secrets']);
  const login = web.tasks[0]!;
  const certs = ops.tasks[0]!;
  await ada.client.tasks.update(login.id, { description: 'The button does nothing on Safari 17 after the redirect.' });
  await ada.client.tasks.update(certs.id, { description: 'The Safari warning shows when they expire.' });
  await eve.client.tasks.update(theirs.tasks[0]!.id, { description: 'Safari, but in a project Ada is not in.' });

  const page = await pageFor(s.browser, s.server.url, ada, '/app/');
  const input = page.getByTestId('search-input');
  const results = page.getByTestId('search-results');
  await input.fill('redirect');
  const hit = page.getByTestId(`search-result-${login.id}`);
  await hit.waitFor();
  assert.equal(await results.getByRole('option').count(), 1);
  const text = await hit.innerText();
  assert.match(text, /Fix login/);
  assert.match(text, /Website/);
  assert.match(text, /nothing on Safari 17 after the redirect/);
  assert.equal(await hit.locator('mark').first().innerText(), 'redirect', 'the word found is highlighted');
  assert.equal(await input.getAttribute('aria-expanded'), 'true');

  // A word in two projects: both, each with its project; never Eve's task.
  await input.fill('safari');
  await page.getByTestId(`search-result-${certs.id}`).waitFor();
  await eventually(async () => (await results.getByRole('option').count()) === 2, 5_000, 'two results');
  assert.match(await page.getByTestId(`search-result-${certs.id}`).innerText(), /Operations/);
  assert.equal(await page.getByTestId(`search-result-${theirs.tasks[0]!.id}`).count(), 0);
  await page.screenshot({ path: join(screenshotDir, 'search.png') });

  // Keyboard: Down chooses the first, Enter opens its task.
  await input.press('ArrowDown');
  const first = await results.getByRole('option').first().getAttribute('data-testid');
  const firstId = Number(first!.slice('search-result-'.length));
  assert.equal(await input.getAttribute('aria-activedescendant'), `search-option-${firstId}`);
  await input.press('Enter');
  const firstProject = firstId === login.id ? web.id : ops.id;
  await page.waitForURL(new RegExp(`/app/projects/${firstProject}/tasks/${firstId}$`));
  await page.getByTestId(`task-description-${firstId}`).waitFor();
  assert.equal(await results.isVisible(), false, 'the results close');

  // A click opens the other one, in its own project.
  await input.click();
  const otherId = firstId === login.id ? certs.id : login.id;
  await page.getByTestId(`search-result-${otherId}`).click();
  await page.waitForURL(new RegExp(`/app/projects/${otherId === login.id ? web.id : ops.id}/tasks/${otherId}$`));
  await page.getByTestId(`task-description-${otherId}`).waitFor();

  // Nothing found says so; Escape closes the results and leaves the task view open.
  await input.fill('zebra');
  await results.getByText('No task matches “zebra”.').waitFor();
  await input.press('Escape');
  await results.waitFor({ state: 'hidden' });
  assert.match(page.url(), new RegExp(`/tasks/${otherId}$`));
  assert.deepEqual(pageErrorsOf(page), []);
  await page.context().close();
});
