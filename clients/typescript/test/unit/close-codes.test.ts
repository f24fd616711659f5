import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROJECT, Recorder, ev, fakeEnv, flush, json, nextSocket, socketNumber } from '../helpers/index.js';

/** A live subscription at lastSeq 3, on socket #1. */
async function liveAt3(opts: Parameters<typeof fakeEnv>[0] = {}) {
  const env = fakeEnv(opts);
  env.log.head = 3;
  const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
  const rec = new Recorder().project(sub);
  const s1 = (await socketNumber(env, 1)).open().caughtUp(0).sendAll([ev(1), ev(2), ev(3)]);
  await flush();
  assert.equal(sub.lastSeq, 3);
  assert.equal(sub.state, 'live');
  return { env, sub, rec, s1 };
}

describe('close codes', () => {
  for (const code of [4408, 1001, 1006, 1011]) {
    it(`${code}: resumes with since = lastSeq after a backoff delay`, async () => {
      const { env, sub, rec, s1 } = await liveAt3();
      s1.serverClose(code);
      assert.equal(sub.state, 'reconnecting');
      assert.equal(rec.infos.at(-1)?.code, code);
      const { socket, waitedMs } = await nextSocket(env);
      assert.ok(waitedMs >= 100, `waited ${waitedMs} ms`);
      assert.equal(socket.since, 3);
      socket.open().sendAll([ev(3), ev(4)]).caughtUp(4);
      await flush();
      assert.deepEqual(rec.seqs, [1, 2, 3, 4]);
      assert.equal(sub.state, 'live');
    });
  }

  it('4401: asks getToken for a fresh token, then resumes with it and since', async () => {
    let calls = 0;
    const { env, s1 } = await liveAt3({ client: { getToken: () => `fresh-${++calls}` } });
    s1.serverClose(4401, 'token expired');
    const { socket } = await nextSocket(env);
    assert.equal(calls, 1);
    assert.equal(socket.token, 'fresh-1');
    assert.equal(socket.since, 3);
  });

  it('4403: revoked, events before it still delivered, no reconnect ever', async () => {
    const { env, sub, rec, s1 } = await liveAt3();
    s1.deliver(ev(4, 'member_removed', { project_id: 1, user_id: 1 })).serverClose(4403);
    await env.clock.advance(3_600_000);
    assert.equal(sub.state, 'revoked');
    assert.deepEqual(rec.seqs, [1, 2, 3, 4]);
    assert.equal(env.sockets.count, 1);
    assert.deepEqual(env.clock.pending(), [], 'no timer left running');
  });

  for (const code of [1008, 1009]) {
    it(`${code}: stops (closed) with a protocol error, no reconnect`, async () => {
      const { env, sub, rec, s1 } = await liveAt3();
      s1.serverClose(code);
      await env.clock.advance(3_600_000);
      assert.equal(sub.state, 'closed');
      assert.equal(rec.errors.at(-1)?.kind, 'protocol');
      assert.equal(rec.errors.at(-1)?.info.code, code);
      assert.equal(env.sockets.count, 1);
    });
  }

  it('1000 from the server: nothing to do, closed', async () => {
    const { env, sub, s1 } = await liveAt3();
    s1.serverClose(1000);
    await env.clock.advance(3_600_000);
    assert.equal(sub.state, 'closed');
    assert.equal(env.sockets.count, 1);
  });
});

describe('refused handshakes', () => {
  it('403 at the handshake and 403 from GET /projects/{id}: revoked', async () => {
    const env = fakeEnv();
    env.http.on('GET', /\/api\/v1\/projects\/1/, json(403, { detail: 'Not a member of this project' }));
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    (await socketNumber(env, 1)).refuse(403);
    await env.clock.advance(600_000);
    assert.equal(sub.state, 'revoked');
    assert.equal(env.sockets.count, 1);
    await assert.rejects(sub.caughtUp);
  });

  it('a browser-style failure (no status) and 404 from the probe: revoked', async () => {
    const env = fakeEnv();
    env.http.on('GET', /\/api\/v1\/projects\/1/, json(404, { detail: 'Project not found' }));
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    (await socketNumber(env, 1)).refuse();
    await flush();
    assert.equal(sub.state, 'revoked');
  });

  it('403 at the handshake but the probe succeeds after a token refresh: reconnects with the new token', async () => {
    let n = 0;
    const env = fakeEnv({ client: { getToken: () => `t${++n + 1}` } });
    env.http.on('GET', /\/api\/v1\/projects\/1/, (req) =>
      req.headers['authorization'] === 'Bearer t1'
        ? json(401, { detail: 'Could not validate credentials' })
        : json(200, { id: 1, name: 'P', description: null, owner_id: 1, members: [] }, { 'X-Event-Seq': '0' }),
    );
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    (await socketNumber(env, 1)).refuse(403);
    const { socket } = await nextSocket(env);
    assert.equal(socket.token, 't2');
    assert.equal(sub.state, 'connecting');
  });

  it('422 (since ahead of the log): the cursor is dropped, onResync at the current seq, resumes from it', async () => {
    const env = fakeEnv();
    env.log.head = 10;
    const resyncs: number[] = [];
    const sub = env.client.project(PROJECT).subscribe({ cursor: 50, onResync: (s) => void resyncs.push(s) });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).refuse(422);
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 10);
    socket.open().caughtUp(10).deliver(ev(11));
    await flush();
    assert.deepEqual(resyncs, [10]);
    assert.deepEqual(rec.seqs, [11]);
    assert.equal(sub.lastSeq, 11);
  });

  it('422 seen only through the probe (browsers hide the status): same resync', async () => {
    const env = fakeEnv();
    env.log.head = 4;
    const resyncs: number[] = [];
    env.client.project(PROJECT).subscribe({ cursor: 9, onResync: (s) => void resyncs.push(s) });
    (await socketNumber(env, 1)).refuse();
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 4);
    await flush();
    assert.deepEqual(resyncs, [4]);
  });

  it('429: backs off without probing, keeps the cursor', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 2 });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).refuse(429);
    const { socket, waitedMs } = await nextSocket(env);
    assert.ok(waitedMs >= 100);
    assert.equal(socket.since, 2);
    assert.equal(env.http.calls.length, 0);
    assert.equal(rec.infos.at(-1)?.status, 429);
  });

  it('a failure the probe cannot explain (server reachable, since fine): backoff, same since', async () => {
    const env = fakeEnv();
    env.log.head = 5;
    env.client.project(PROJECT).subscribe({ cursor: 2 });
    (await socketNumber(env, 1)).refuse();
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 2);
  });

  it('a probe that cannot reach the server either: backoff and try again', async () => {
    const env = fakeEnv();
    env.http.on('GET', /\/api\/v1\/projects\/1/, 'network-error');
    const sub = env.client.project(PROJECT).subscribe({ cursor: 2 });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).refuse();
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 2);
    assert.equal(rec.errors.at(-1)?.kind, 'connection');
  });

  it('a probe that never answers (a silent keep-alive connection) is given up after connectTimeoutMs: backoff and try again', async () => {
    const env = fakeEnv();
    env.log.head = 5;
    let answer: ((r: Response) => void) | undefined;
    env.http.once('GET', /\/api\/v1\/projects\/1/, () => new Promise<Response>((resolve) => (answer = resolve)));
    const sub = env.client.project(PROJECT).subscribe({ cursor: 2 });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).refuse();
    const { socket, waitedMs } = await nextSocket(env);
    assert.ok(waitedMs >= 15_000, `waited ${waitedMs} ms`);
    assert.equal(socket.since, 2);
    assert.equal(rec.errors.at(-1)?.kind, 'connection');
    assert.match(rec.errors.at(-1)?.message ?? '', /did not answer/);
    // The late answer changes nothing: no second socket, no resync.
    answer?.(json(200, { id: PROJECT, name: 'P', description: null, owner_id: 1, members: [] }, { 'X-Event-Seq': '1' }));
    await flush();
    assert.equal(env.sockets.count, 2);
    assert.deepEqual(rec.resyncs, []);
  });
});
