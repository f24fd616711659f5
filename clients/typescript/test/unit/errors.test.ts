import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TaskwireError,
  TaskwireNetworkError,
  TaskwireProtocolError,
  createClient,
  isConflict,
  isNetworkError,
  isRateLimited,
  isTaskwireError,
} from '../../src/index.js';
import { BASE, FakeClock, FakeFetch, json } from '../helpers/index.js';

function client(http: FakeFetch, extra: Parameters<typeof createClient>[0] extends infer O ? Partial<O> : never = {}) {
  return createClient({ baseUrl: BASE, token: 't', fetch: http.fetch, clock: new FakeClock(), random: () => 0, retry: { attempts: 1 }, ...extra });
}

describe('REST errors', () => {
  it('a 4xx throws a TaskwireError with status, detail and body', async () => {
    const http = new FakeFetch().on('GET', /\/api\/v1\/projects\/9/, json(403, { detail: 'Not a member of this project' }));
    const err = await client(http).projects.get(9).catch((e: unknown) => e);
    assert.ok(err instanceof TaskwireError);
    assert.ok(isTaskwireError(err));
    assert.equal(err.status, 403);
    assert.equal(err.detail, 'Not a member of this project');
    assert.deepEqual(err.body, { detail: 'Not a member of this project' });
    assert.deepEqual(err.fieldErrors, []);
    assert.equal(err.retryAfter, undefined);
    assert.equal(err.method, 'GET');
  });

  it('a 422 carries the field list (loc, msg, type) and a readable detail', async () => {
    const detail = [
      { loc: ['body', 'title'], msg: 'Field required', type: 'missing' },
      { loc: ['body', 'status'], msg: "Input should be 'todo', 'in_progress' or 'done'", type: 'enum' },
    ];
    const http = new FakeFetch().on('POST', /\/api\/v1\/projects\/1\/tasks/, json(422, { detail }));
    const err = await client(http).tasks.create(1, { title: '' }).catch((e: unknown) => e);
    assert.ok(err instanceof TaskwireError);
    assert.equal(err.status, 422);
    assert.deepEqual(err.fieldErrors, detail);
    assert.match(err.detail, /body\.title: Field required/);
    assert.match(err.detail, /body\.status/);
  });

  it('a 429 gives retryAfter in seconds from Retry-After', async () => {
    const body = { detail: 'Rate limit exceeded: 5 per 1 minute', error: 'Rate limit exceeded: 5 per 1 minute' };
    const http = new FakeFetch().on('POST', /\/api\/v1\/auth\/login/, json(429, body, { 'Retry-After': '42' }));
    const err = await client(http).auth.login({ username: 'a', password: 'b' }).catch((e: unknown) => e);
    assert.ok(isRateLimited(err));
    assert.equal(err.retryAfter, 42);
    assert.equal(err.detail, 'Rate limit exceeded: 5 per 1 minute');
  });

  it('a 410 of the log exposes oldestSeq', async () => {
    const http = new FakeFetch().on('GET', /\/api\/v1\/projects\/1\/events/, json(410, { detail: 'gone', oldest_seq: 77 }));
    const err = await client(http).events.list(1, { since: 3 }).catch((e: unknown) => e);
    assert.ok(err instanceof TaskwireError);
    assert.equal(err.status, 410);
    assert.equal(err.oldestSeq, 77);
  });

  it('a 412 is a conflict', async () => {
    const http = new FakeFetch().on('PUT', /\/api\/v1\/tasks\/5/, json(412, { detail: 'Precondition Failed' }));
    const err = await client(http).tasks.update(5, { title: 'x' }, { ifMatch: 3 }).catch((e: unknown) => e);
    assert.ok(isConflict(err));
    assert.equal(err.status, 412);
    assert.equal(http.calls[0]?.headers['if-match'], '"3"');
  });

  it('a non-JSON error body becomes the detail', async () => {
    const http = new FakeFetch().on('GET', /\/api\/v1\/users\/me/, new Response('bad gateway', { status: 502 }));
    const err = await client(http).users.me().catch((e: unknown) => e);
    assert.ok(err instanceof TaskwireError);
    assert.equal(err.status, 502);
    assert.equal(err.detail, 'bad gateway');
  });

  it('a network failure throws a TaskwireNetworkError, not a TaskwireError', async () => {
    const http = new FakeFetch().on('GET', /\/api\/v1\/users\/me/, 'network-error');
    const err = await client(http).users.me().catch((e: unknown) => e);
    assert.ok(err instanceof TaskwireNetworkError);
    assert.ok(isNetworkError(err));
    assert.equal(isTaskwireError(err), false);
    assert.ok((err as Error).cause instanceof TypeError);
  });

  it('a 2xx that is not JSON, or lacks X-Event-Seq, is a TaskwireProtocolError', async () => {
    const http = new FakeFetch()
      .on('GET', /\/api\/v1\/users\/me/, new Response('<html>', { status: 200 }))
      .on('GET', /\/api\/v1\/tasks\/1/, json(200, { id: 1 }));
    await assert.rejects(client(http).users.me(), TaskwireProtocolError);
    await assert.rejects(client(http).tasks.get(1), TaskwireProtocolError);
  });

  it('a 401 asks getToken for a fresh token and repeats the request once', async () => {
    let n = 0;
    const http = new FakeFetch().on('GET', /\/api\/v1\/users\/me/, (req) =>
      req.headers['authorization'] === 'Bearer fresh'
        ? json(200, { id: 1, email: 'a@b.co', username: 'a' })
        : json(401, { detail: 'Could not validate credentials' }),
    );
    const c = client(http, { token: 'stale', getToken: () => (n++, 'fresh') });
    const me = await c.users.me();
    assert.equal(me.username, 'a');
    assert.equal(n, 1);
    assert.equal(http.calls.length, 2);
  });

  it('without getToken a 401 is thrown as it is', async () => {
    const http = new FakeFetch().on('GET', /\/api\/v1\/users\/me/, json(401, { detail: 'Not authenticated' }));
    const err = await client(http).users.me().catch((e: unknown) => e);
    assert.ok(err instanceof TaskwireError && err.status === 401);
    assert.equal(http.calls.length, 1);
  });

  it('concurrent 401s share one getToken call', async () => {
    let n = 0;
    const http = new FakeFetch().on('GET', /\/api\/v1\/users\/me/, (req) =>
      req.headers['authorization'] === 'Bearer fresh' ? json(200, { id: 1, email: 'e', username: 'u' }) : json(401, { detail: 'x' }),
    );
    const c = client(http, {
      token: 'stale',
      getToken: async () => {
        n++;
        await new Promise((r) => setImmediate(r));
        return 'fresh';
      },
    });
    await Promise.all([c.users.me(), c.users.me(), c.users.me()]);
    assert.equal(n, 1);
  });
});
