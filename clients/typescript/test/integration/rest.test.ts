import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, isConflict, TaskwireError, type TaskwireClient } from '../../src/index.js';
import { buildServer, startServer, type TestServer } from '../helpers/index.js';

const bin = buildServer();
const run = Date.now().toString(36);

describe('REST against the real server', { skip: bin === undefined ? 'no Go toolchain to build the server' : false }, () => {
  let server: TestServer;
  let alice: TaskwireClient;
  let bob: TaskwireClient;
  let bobId: number;
  let projectId: number;
  let taskId: number;

  before(async () => {
    server = await startServer(bin!);
    alice = createClient({ baseUrl: server.url });
    bob = createClient({ baseUrl: server.url });
  });
  after(async () => {
    await server?.dispose();
  });

  it('signs up and logs in (username or email, form-encoded)', async () => {
    const a = await alice.auth.signup({ email: `alice${run}@example.com`, username: `alice${run}`, password: 'correct-horse' });
    const b = await bob.auth.signup({ email: `bob${run}@example.com`, username: `bob${run}`, password: 'battery-staple' });
    bobId = b.id;
    const tok = await alice.auth.login({ username: `alice${run}`, password: 'correct-horse' });
    assert.equal(tok.token_type, 'bearer');
    await bob.auth.login({ username: `bob${run}@example.com`, password: 'battery-staple' });
    assert.equal((await alice.users.me()).id, a.id);
    assert.deepEqual(await alice.users.lookup({ username: `bob${run}` }), { id: bobId, username: `bob${run}` });
  });

  it('answers errors as typed TaskwireErrors', async () => {
    const anon = createClient({ baseUrl: server.url });
    const wrong = await anon.auth.login({ username: `alice${run}`, password: 'nope' }).catch((e: unknown) => e);
    assert.ok(wrong instanceof TaskwireError && wrong.status === 401);
    assert.equal(wrong.detail, 'Incorrect username or password');
    const bad = await anon.auth.signup({ email: 'not-an-email', username: 'x', password: 'y' }).catch((e: unknown) => e);
    assert.ok(bad instanceof TaskwireError && bad.status === 422);
    assert.deepEqual(bad.fieldErrors[0]?.loc, ['body', 'email']);
    const dup = await anon.auth.signup({ email: `alice${run}@example.com`, username: 'z', password: 'y' }).catch((e: unknown) => e);
    assert.ok(dup instanceof TaskwireError && dup.detail === 'Email already registered');
    const missing = await alice.users.lookup({ username: 'nobody-at-all' }).catch((e: unknown) => e);
    assert.ok(missing instanceof TaskwireError && missing.status === 404 && missing.detail === 'User not found');
    const unauth = await anon.users.me().catch((e: unknown) => e);
    assert.ok(unauth instanceof TaskwireError && unauth.detail === 'Not authenticated');
  });

  it('creates a project, adds a member, reads it with X-Event-Seq', async () => {
    const p = await alice.projects.create({ name: 'Launch', description: 'the launch' });
    projectId = p.id;
    const forbidden = await bob.projects.get(projectId).catch((e: unknown) => e);
    assert.ok(forbidden instanceof TaskwireError && forbidden.status === 403);
    assert.deepEqual(await alice.projects.addMember(projectId, { username: `bob${run}` }), { message: 'Member added successfully' });
    const again = await alice.projects.addMember(projectId, { userId: bobId }).catch((e: unknown) => e);
    assert.ok(again instanceof TaskwireError && again.detail === 'User is already a member of this project');
    const details = await bob.projects.get(projectId);
    assert.equal(details.project.name, 'Launch');
    assert.deepEqual(details.members.map((m) => m.user_id).sort(), [details.project.owner_id, bobId].sort());
    assert.equal(details.seq, 1); // member_added
    const mine = await bob.projects.list();
    assert.deepEqual(mine.projects.map((x) => x.id), [projectId]);
    assert.deepEqual(await alice.projects.presence(projectId), []);
  });

  it('creates a task once per Idempotency-Key', async () => {
    const first = await alice.tasks.create(projectId, { title: 'Write the post' }, { idempotencyKey: `k-${run}` });
    const replay = await alice.tasks.create(projectId, { title: 'Write the post' }, { idempotencyKey: `k-${run}` });
    assert.equal(replay.id, first.id);
    taskId = first.id;
    const list = await alice.tasks.list(projectId);
    assert.equal(list.tasks.length, 1);
    assert.equal(list.seq, 2);
    const other = await alice.tasks.create(projectId, { title: 'Other' }, { idempotencyKey: `k-${run}` }).catch((e: unknown) => e);
    assert.ok(other instanceof TaskwireError && other.status === 422);
  });

  it('updates with If-Match: the current version passes, a stale one is a 412 conflict', async () => {
    const got = await bob.tasks.get(taskId);
    assert.equal(got.etag, '"1"');
    assert.equal(got.seq, 2);
    const moved = await bob.tasks.setStatus(taskId, 'in_progress', { ifMatch: got.etag });
    assert.equal(moved.version, 2);
    const assigned = await alice.tasks.update(taskId, { assignee_id: bobId }, { ifMatch: 2 });
    assert.equal(assigned.version, 3);
    const stale = await bob.tasks.update(taskId, { title: 'lost update' }, { ifMatch: got.task.version }).catch((e: unknown) => e);
    assert.ok(isConflict(stale));
    const now = await bob.tasks.get(taskId);
    assert.equal(now.task.title, 'Write the post');
    assert.equal(now.etag, '"3"');
    assert.equal(now.seq, 4);
  });

  it('lists the event log with seq, whole and page by page', async () => {
    const all = await bob.events.list(projectId, { since: 0 });
    assert.deepEqual(all.events.map((e) => [e.seq, e.event]), [
      [1, 'member_added'],
      [2, 'task_created'],
      [3, 'status_changed'],
      [4, 'task_updated'],
    ]);
    assert.equal(all.seq, 4);
    const page = await bob.events.list(projectId, { since: 1, limit: 2 });
    assert.deepEqual(page.events.map((e) => e.seq), [2, 3]);
    assert.ok(page.next);
    const seqs: number[] = [];
    for await (const e of bob.events.iterate(projectId, { since: 0, limit: 1 })) seqs.push(e.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4]);
    const tasks: number[] = [];
    await alice.tasks.create(projectId, { title: 'Second' });
    for await (const t of alice.tasks.iterate(projectId, { limit: 1 })) tasks.push(t.id);
    assert.equal(tasks.length, 2);
  });

  it('notifications carry X-Notification-Seq and X-Unread-Count', async () => {
    const inbox = await bob.notifications.list();
    assert.ok(inbox.notifications.length >= 2, 'added to the project, assigned a task');
    assert.equal(inbox.seq, Math.max(...inbox.notifications.map((n) => n.seq)));
    assert.equal(inbox.unread, inbox.notifications.length);
    assert.deepEqual(new Set(inbox.notifications.map((n) => n.type)), new Set(['member_added', 'task_assigned']));
    const read = await bob.notifications.markRead(inbox.notifications[0]!.id);
    assert.equal(read.read, true);
    assert.equal((await bob.notifications.list({ unread: true })).unread, inbox.unread - 1);
    assert.deepEqual(await bob.notifications.markAllRead(), { updated: inbox.unread - 1 });
    const seen: number[] = [];
    for await (const n of bob.notifications.iterate({ limit: 1 })) seen.push(n.seq);
    assert.equal(seen.length, inbox.notifications.length);
    const settings = await bob.notifications.settings.put({ email: { task_assigned: false } });
    assert.equal(settings.email['task_assigned'], false);
    assert.equal((await bob.notifications.settings.get()).email['task_assigned'], false);
  });

  it('makes an API token that signs a client in, lists it and revokes it', async () => {
    const created = await alice.apiTokens.create({ name: 'integration' });
    assert.match(created.token, /^tw_[A-Za-z0-9_-]{43}$/);
    const viaToken = createClient({ baseUrl: server.url, token: created.token });
    assert.equal((await viaToken.users.me()).id, (await alice.users.me()).id);
    const listed = await alice.apiTokens.list();
    assert.deepEqual(
      listed.map((t) => [t.id, t.name, 'token' in t]),
      [[created.id, 'integration', false]],
    );
    await alice.apiTokens.revoke(created.id);
    const refused = await viaToken.users.me().catch((e: unknown) => e);
    assert.ok(refused instanceof TaskwireError && refused.status === 401);
    const again = await alice.apiTokens.revoke(created.id).catch((e: unknown) => e);
    assert.ok(again instanceof TaskwireError && again.status === 404);
  });

  it('removes a member, deletes a task and the project', async () => {
    await alice.projects.update(projectId, { name: 'Launched' });
    await alice.tasks.delete(taskId);
    await alice.projects.removeMember(projectId, bobId);
    const gone = await bob.projects.get(projectId).catch((e: unknown) => e);
    assert.ok(gone instanceof TaskwireError && gone.status === 403);
    await alice.projects.delete(projectId);
    const none = await alice.projects.get(projectId).catch((e: unknown) => e);
    assert.ok(none instanceof TaskwireError && none.status === 404);
    assert.equal((await alice.ops.healthz()).status, 'ok');
  });
});
