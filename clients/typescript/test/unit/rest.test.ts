import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etagOf, ifMatchValue } from '../../src/index.js';
import { nextLink } from '../../src/http.js';
import { restEnv, flush, json, task } from '../helpers/index.js';


const project = { id: 1, name: 'P', description: null, owner_id: 1 };

describe('REST methods', () => {
  it('login posts the OAuth2 form and keeps the token', async () => {
    const { http, client } = restEnv({ token: undefined });
    http.on('POST', /\/api\/v1\/auth\/login/, json(200, { access_token: 'abc', token_type: 'bearer' }));
    http.on('GET', /\/api\/v1\/users\/me/, json(200, { id: 1, email: 'a@b.co', username: 'a b' }));
    const tok = await client.auth.login({ username: 'a b', password: 'p&q=1' });
    assert.equal(tok.access_token, 'abc');
    const call = http.calls[0]!;
    assert.equal(call.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(call.headers['authorization'], undefined);
    const form = new URLSearchParams(call.body);
    assert.equal(form.get('username'), 'a b');
    assert.equal(form.get('password'), 'p&q=1');
    await client.users.me();
    assert.equal(http.calls[1]!.headers['authorization'], 'Bearer abc');
    assert.equal(client.token, 'abc');
  });

  it('signup sends JSON without a token', async () => {
    const { http, client } = restEnv();
    http.on('POST', /\/api\/v1\/auth\/signup/, json(201, { id: 3, email: 'e@x.io', username: 'u' }));
    const user = await client.auth.signup({ email: 'e@x.io', username: 'u', password: 'pw' });
    assert.equal(user.id, 3);
    assert.deepEqual(JSON.parse(http.calls[0]!.body!), { email: 'e@x.io', username: 'u', password: 'pw' });
    assert.equal(http.calls[0]!.headers['authorization'], undefined);
  });

  it('projects.get returns project, members and X-Event-Seq', async () => {
    const { http, client } = restEnv();
    const members = [{ project_id: 1, user_id: 1, user: { id: 1, email: 'a@b.co', username: 'a' } }];
    http.on('GET', /\/api\/v1\/projects\/1/, json(200, { ...project, members }, { 'X-Event-Seq': '12' }));
    const res = await client.projects.get(1);
    assert.deepEqual(res, { project, members, seq: 12 });
  });

  it('addMember takes a user id, a username or an email', async () => {
    const { http, client } = restEnv();
    http.on('POST', /\/api\/v1\/projects\/1\/members/, json(201, { message: 'Member added successfully' }));
    await client.projects.addMember(1, { userId: 5 });
    await client.projects.addMember(1, { username: 'bob' });
    await client.projects.addMember(1, { email: 'bob@x.io' });
    assert.deepEqual(
      http.calls.map((c) => JSON.parse(c.body!)),
      [{ user_id: 5 }, { username: 'bob' }, { email: 'bob@x.io' }],
    );
    assert.deepEqual(http.calls.map((c) => c.headers['idempotency-key']), ['key-1', 'key-2', 'key-3']);
  });

  it('every route is reached with its method and path', async () => {
    const { http, client } = restEnv();
    const seen: string[] = [];
    const any = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      (req: { method: string; path: string }) => (seen.push(`${req.method} ${req.path}`), json(status, body, headers));
    const seqs = { 'X-Event-Seq': '4', 'X-Notification-Seq': '2', 'X-Unread-Count': '1' };
    for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) http.on(m, /.*/, any(200, [], seqs));
    http.on('GET', /\/api\/v1\/tasks\/7/, any(200, task(7), { ...seqs, ETag: '"1"' }));
    http.on('GET', /\/api\/v1\/projects\/1/, any(200, { ...project, members: null }, seqs));
    http.on('DELETE', /.*/, any(204, undefined));
    await client.users.me();
    await client.users.lookup({ username: 'x' });
    await client.projects.list();
    await client.projects.create({ name: 'n' });
    await client.projects.get(1);
    await client.projects.update(1, { name: 'm' });
    await client.projects.delete(1);
    await client.projects.addMember(1, { userId: 2 });
    await client.projects.removeMember(1, 2);
    await client.projects.presence(1);
    await client.tasks.list(1, { status: 'done', assignee_id: 2 });
    await client.tasks.create(1, { title: 't' });
    await client.tasks.get(7);
    await client.tasks.update(7, { assignee_id: null });
    await client.tasks.setStatus(7, 'done');
    await client.tasks.delete(7);
    await client.events.list(1, { since: 3 });
    await client.notifications.list({ unread: true });
    await client.notifications.markRead(9);
    await client.notifications.markAllRead();
    await client.notifications.settings.get();
    await client.notifications.settings.put({ email: { task_assigned: false } });
    await client.ops.healthz();
    await client.ops.readyz();
    await client.ops.root();
    assert.deepEqual(seen, [
      'GET /api/v1/users/me',
      'GET /api/v1/users/lookup',
      'GET /api/v1/projects/',
      'POST /api/v1/projects/',
      'GET /api/v1/projects/1',
      'PATCH /api/v1/projects/1',
      'DELETE /api/v1/projects/1',
      'POST /api/v1/projects/1/members',
      'DELETE /api/v1/projects/1/members/2',
      'GET /api/v1/projects/1/presence',
      'GET /api/v1/projects/1/tasks',
      'POST /api/v1/projects/1/tasks',
      'GET /api/v1/tasks/7',
      'PUT /api/v1/tasks/7',
      'PATCH /api/v1/tasks/7/status',
      'DELETE /api/v1/tasks/7',
      'GET /api/v1/projects/1/events',
      'GET /api/v1/notifications',
      'POST /api/v1/notifications/9/read',
      'POST /api/v1/notifications/read-all',
      'GET /api/v1/users/me/notification-settings',
      'PUT /api/v1/users/me/notification-settings',
      'GET /healthz',
      'GET /readyz',
      'GET /',
    ]);
    const q = (path: string) => http.calls.find((c) => c.path === path)!.query;
    assert.equal(q('/api/v1/projects/1/tasks').get('status'), 'done');
    assert.equal(q('/api/v1/projects/1/tasks').get('assignee_id'), '2');
    assert.equal(q('/api/v1/projects/1/events').get('since'), '3');
    assert.equal(q('/api/v1/notifications').get('unread'), 'true');
    assert.equal(JSON.parse(http.calls.find((c) => c.method === 'PUT' && c.path === '/api/v1/tasks/7')!.body!).assignee_id, null);
  });

  it('tasks.get returns task, ETag and seq; notifications.list returns unread and seq', async () => {
    const { http, client } = restEnv();
    http.on('GET', /\/api\/v1\/tasks\/7/, json(200, task(7, { version: 4 }), { ETag: '"4"', 'X-Event-Seq': '30' }));
    http.on('GET', /\/api\/v1\/notifications/, json(200, [], { 'X-Unread-Count': '3', 'X-Notification-Seq': '8' }));
    const t = await client.tasks.get(7);
    assert.equal(t.etag, '"4"');
    assert.equal(t.seq, 30);
    assert.equal(etagOf(t.task), '"4"');
    assert.deepEqual(await client.notifications.list(), { notifications: [], unread: 3, seq: 8 });
  });

  it('If-Match takes a version or an ETag', () => {
    assert.equal(ifMatchValue(3), '"3"');
    assert.equal(ifMatchValue('"3"'), '"3"');
    assert.equal(ifMatchValue('3'), '"3"');
    assert.equal(ifMatchValue('W/"3"'), 'W/"3"');
  });
});

describe('Idempotency-Key and retries', () => {
  it('a create retried after a network error reuses its key', async () => {
    const { http, clock, client } = restEnv();
    http.on('POST', /\/api\/v1\/projects\/1\/tasks/, json(201, task(9)));
    http.once('POST', /\/api\/v1\/projects\/1\/tasks/, 'network-error');
    const p = client.tasks.create(1, { title: 't' });
    await clock.advance(5_000);
    assert.equal((await p).id, 9);
    const keys = http.calls.map((c) => c.headers['idempotency-key']);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], 'key-1');
    assert.equal(keys[1], 'key-1');
  });

  it('a create retried after a 5xx reuses its key; a new call gets a new key', async () => {
    const { http, clock, client } = restEnv();
    http.on('POST', /\/api\/v1\/projects\//, json(201, project));
    http.once('POST', /\/api\/v1\/projects\//, json(503, { detail: 'unavailable' }));
    http.once('POST', /\/api\/v1\/projects\//, json(500, { detail: 'boom' }));
    const p = client.projects.create({ name: 'P' });
    await clock.advance(10_000);
    await p;
    await client.projects.create({ name: 'P' });
    assert.deepEqual(http.calls.map((c) => c.headers['idempotency-key']), ['key-1', 'key-1', 'key-1', 'key-2']);
  });

  it('retries are bounded, with backoff between them', async () => {
    const { http, clock, client } = restEnv({ retry: { attempts: 3, baseMs: 100, capMs: 1000 } });
    http.on('POST', /\/api\/v1\/projects\//, 'network-error');
    const p = client.projects.create({ name: 'P' }, { idempotencyKey: 'mine' }).catch((e: unknown) => e);
    await flush();
    assert.equal(http.calls.length, 1);
    await clock.advance(49); // random 0.5 of 100 ms
    assert.equal(http.calls.length, 1);
    await clock.advance(1);
    assert.equal(http.calls.length, 2);
    await clock.advance(100); // 0.5 of 200 ms
    assert.equal(http.calls.length, 3);
    await clock.advance(60_000);
    assert.equal(http.calls.length, 3);
    assert.equal(((await p) as Error).name, 'TaskwireNetworkError');
    assert.ok(http.calls.every((c) => c.headers['idempotency-key'] === 'mine'));
  });

  it('updates and 4xx answers are never retried', async () => {
    const { http, clock, client } = restEnv();
    http.on('PUT', /\/api\/v1\/tasks\/1/, json(500, { detail: 'x' }));
    http.on('POST', /\/api\/v1\/projects\//, json(422, { detail: [] }));
    await assert.rejects(client.tasks.update(1, { title: 'x' }));
    await assert.rejects(client.projects.create({ name: '' }));
    await clock.advance(10_000);
    assert.equal(http.calls.length, 2);
  });
});

describe('Link pagination', () => {
  it('parses rel="next" among other links', () => {
    assert.equal(nextLink('</a?cursor=x>; rel="next"'), '/a?cursor=x');
    assert.equal(nextLink('</p>; rel="prev", </n?x=1>; rel="next"'), '/n?x=1');
    assert.equal(nextLink('</n>; rel=next'), '/n');
    assert.equal(nextLink('</p>; rel="prev"'), undefined);
    assert.equal(nextLink(null), undefined);
  });

  it('tasks.iterate follows Link headers, resolved under the base URL', async () => {
    const { http, client } = restEnv({ baseUrl: 'http://taskwire.test/prefix/' });
    http.on('GET', /\/prefix\/api\/v1\/projects\/1\/tasks/, (req) => {
      const cursor = req.query.get('cursor');
      if (cursor === null) return json(200, [task(1), task(2)], { 'X-Event-Seq': '5', Link: '</api/v1/projects/1/tasks?cursor=c2&limit=2>; rel="next"' });
      if (cursor === 'c2') return json(200, [task(3), task(4)], { 'X-Event-Seq': '5', Link: '</api/v1/projects/1/tasks?cursor=c4&limit=2>; rel="next"' });
      return json(200, [task(5)], { 'X-Event-Seq': '5' });
    });
    const ids: number[] = [];
    for await (const t of client.tasks.iterate(1, { limit: 2 })) ids.push(t.id);
    assert.deepEqual(ids, [1, 2, 3, 4, 5]);
    assert.equal(http.calls.length, 3);
    assert.equal(http.calls[0]!.query.get('limit'), '2');
  });

  it('events, notifications and projects iterate the same way; list() exposes next', async () => {
    const { http, client } = restEnv();
    const page = (items: unknown[], next?: string) => json(200, items, {
      'X-Event-Seq': '3', 'X-Notification-Seq': '3', 'X-Unread-Count': '0',
      ...(next ? { Link: `<${next}>; rel="next"` } : {}),
    });
    http.on('GET', /\/api\/v1\/projects\/1\/events/, (req) =>
      req.query.get('since') === '0' ? page([{ seq: 1 }, { seq: 2 }], '/api/v1/projects/1/events?since=2&limit=2') : page([{ seq: 3 }]));
    http.on('GET', /\/api\/v1\/notifications/, (req) =>
      req.query.get('cursor') ? page([{ seq: 1 }]) : page([{ seq: 3 }, { seq: 2 }], '/api/v1/notifications?cursor=a&limit=2'));
    http.on('GET', /\/api\/v1\/projects\//, (req) =>
      req.query.get('cursor') ? page([{ id: 2 }]) : page([{ id: 1 }], '/api/v1/projects/?cursor=b&limit=1'));
    const evSeqs: number[] = [];
    for await (const e of client.events.iterate(1, { since: 0, limit: 2 })) evSeqs.push(e.seq);
    const nSeqs: number[] = [];
    for await (const n of client.notifications.iterate({ limit: 2 })) nSeqs.push(n.seq);
    const pIds: number[] = [];
    for await (const p of client.projects.iterate({ limit: 1 })) pIds.push(p.id);
    assert.deepEqual(evSeqs, [1, 2, 3]);
    assert.deepEqual(nSeqs, [3, 2, 1]);
    assert.deepEqual(pIds, [1, 2]);
    const first = await client.events.list(1, { since: 0, limit: 2 });
    assert.equal(first.next, '/api/v1/projects/1/events?since=2&limit=2');
  });
});
