import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROJECT, Recorder, ev, fakeEnv, flush, json, socketNumber, nextSocket, evs } from '../helpers/index.js';

/** A promise the test resolves by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe('delivery: order, duplicates, gaps', () => {
  it('opens /ws/projects/{id} with token, v=2 and since = cursor', async () => {
    const env = fakeEnv();
    env.client.project(PROJECT).subscribe({ cursor: 5 });
    const s = await socketNumber(env, 1);
    assert.equal(s.path, '/ws/projects/1');
    assert.equal(s.token, 't1');
    assert.equal(s.query.get('v'), '2');
    assert.equal(s.since, 5);
    assert.match(s.url, /^ws:\/\/taskwire\.test\//);
    const env2 = fakeEnv();
    env2.client.project(PROJECT).subscribe();
    assert.equal((await socketNumber(env2, 1)).query.has('since'), false);
  });

  it('delivers in seq order and drops duplicates (seq <= lastSeq)', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 5 });
    const rec = new Recorder().project(sub);
    const s = (await socketNumber(env, 1)).open();
    s.caughtUp(5).sendAll([ev(6), ev(7), ev(6), ev(5), ev(7), ev(8)]);
    await flush();
    assert.deepEqual(rec.seqs, [6, 7, 8]);
    assert.equal(sub.lastSeq, 8);
    assert.equal(sub.state, 'live');
    assert.equal(await sub.caughtUp, 5);
  });

  it('without a cursor the stream starts at caught_up', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe();
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).open().caughtUp(40).deliver(ev(41));
    await flush();
    assert.deepEqual(rec.seqs, [41]);
    assert.equal(sub.lastSeq, 41);
  });

  it('typed handlers get their event type; each on() returns its unsubscribe', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const got: string[] = [];
    sub.on('task_deleted', (e) => void got.push(`deleted ${e.data.id}`));
    const off = sub.on('member_added', (e) => void got.push(`added ${e.data.user.username}`));
    sub.on('presence', (m) => void got.push(`${m.event} ${m.data.username}`));
    const s = (await socketNumber(env, 1)).open().caughtUp(0);
    s.deliver(ev(1, 'task_deleted', { id: 4, project_id: 1 }));
    s.deliver(ev(2, 'member_added', { project_id: 1, user_id: 2, user: { id: 2, username: 'bob' } }));
    s.deliver({ event: 'presence_joined', data: { user_id: 2, username: 'bob' }, project_id: 1, ts: 'x' });
    await flush();
    off();
    s.deliver(ev(3, 'member_added', { project_id: 1, user_id: 3, user: { id: 3, username: 'cy' } }));
    await flush();
    assert.deepEqual(got, ['deleted 4', 'added bob', 'presence_joined bob']);
    assert.equal(sub.lastSeq, 3);
  });

  it('a gap is refilled from GET .../events?since=lastSeq before anything after it', async () => {
    const env = fakeEnv();
    const g = gate();
    env.http.on('GET', /\/api\/v1\/projects\/1\/events/, async (req) => {
      await g.wait;
      const since = Number(req.query.get('since'));
      return json(200, evs(since + 1, 7), { 'X-Event-Seq': '7' });
    });
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const rec = new Recorder().project(sub);
    const s = (await socketNumber(env, 1)).open().caughtUp(0);
    s.sendAll([ev(1), ev(2), ev(5), ev(6), ev(7)]);
    await flush();
    assert.deepEqual(rec.seqs, [1, 2], 'nothing across the gap while it is being refilled');
    g.open();
    await flush();
    s.deliver(ev(8));
    await flush();
    assert.deepEqual(rec.seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    const calls = env.http.callsTo('GET', /\/api\/v1\/projects\/1\/events/);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.query.get('since'), '2');
    assert.equal(env.sockets.count, 1, 'no reconnect was needed');
  });

  it('a heartbeat or caught_up above lastSeq triggers the refill too', async () => {
    const env = fakeEnv();
    env.log.head = 8;
    const sub = env.client.project(PROJECT).subscribe({ cursor: 3 });
    const rec = new Recorder().project(sub);
    const s = (await socketNumber(env, 1)).open().caughtUp(5);
    await flush();
    assert.deepEqual(rec.seqs, [4, 5, 6, 7, 8]);
    s.heartbeat(8).heartbeat(2);
    await flush();
    env.log.head = 10;
    s.heartbeat(10);
    await flush();
    assert.deepEqual(rec.seqs, [4, 5, 6, 7, 8, 9, 10]);
    assert.equal(env.http.callsTo('GET', /\/api\/v1\/projects\/1\/events/).length, 2);
  });

  it('a refill that fails resumes the socket with since, never delivering across the gap', async () => {
    const env = fakeEnv();
    env.http.on('GET', /\/api\/v1\/projects\/1\/events/, json(500, { detail: 'x' }));
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0, });
    const rec = new Recorder().project(sub);
    const s1 = (await socketNumber(env, 1)).open().caughtUp(0);
    s1.sendAll([ev(1), ev(4), ev(5)]);
    await env.clock.advance(5_000); // the REST retries back off on the fake clock
    assert.deepEqual(rec.seqs, [1]);
    assert.ok(rec.errors.some((e) => e.kind === 'refill'));
    assert.equal(s1.attached, false, 'the gapped socket was abandoned');
    const { socket: s2 } = await nextSocket(env);
    assert.equal(s2.since, 1);
    s2.open().sendAll([ev(2), ev(3), ev(4), ev(5)]).caughtUp(5);
    await flush();
    assert.deepEqual(rec.seqs, [1, 2, 3, 4, 5]);
  });

  it('a 410 from the log makes the socket resume with since, where the server answers resync_required', async () => {
    const env = fakeEnv();
    env.http.on('GET', /\/api\/v1\/projects\/1\/events/, json(410, { detail: 'gone', oldest_seq: 50 }));
    const resyncs: number[] = [];
    const sub = env.client.project(PROJECT).subscribe({ cursor: 1, onResync: (seq) => void resyncs.push(seq) });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).open().caughtUp(1).deliver(ev(60));
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 1);
    socket.open().resync(60).caughtUp(60).deliver(ev(61));
    await flush();
    assert.deepEqual(resyncs, [60]);
    assert.deepEqual(rec.seqs, [61]);
    assert.equal(sub.lastSeq, 61);
  });

  it('resync_required calls onResync, then lastSeq jumps (to a later seq if the reload says so)', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 2, onResync: async () => 105 });
    const rec = new Recorder().project(sub);
    const s = (await socketNumber(env, 1)).open();
    s.resync(100).caughtUp(100).sendAll([ev(101), ev(105), ev(106)]);
    await flush();
    assert.deepEqual(rec.resyncs, [100]);
    assert.deepEqual(rec.seqs, [106], 'events the reloaded state already reflects are not applied again');
    assert.equal(sub.lastSeq, 106);
  });
});

describe('delivery: awaited handlers and close()', () => {
  it('awaits handlers one at a time; lastSeq moves only after an event’s handlers finished', async () => {
    const env = fakeEnv();
    let running = 0;
    let maxRunning = 0;
    const gates = new Map<number, ReturnType<typeof gate>>();
    const seenLastSeq: (number | undefined)[] = [];
    const sub = env.client.project(PROJECT).subscribe({
      cursor: 0,
      onEvent: async (e) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        seenLastSeq.push(sub.lastSeq);
        const g = gate();
        gates.set(e.seq, g);
        await g.wait;
        running--;
      },
    });
    const second: number[] = [];
    sub.on('event', (e) => void second.push(e.seq));
    (await socketNumber(env, 1)).open().caughtUp(0).sendAll([ev(1), ev(2), ev(3)]);
    await flush();
    assert.deepEqual([...gates.keys()], [1]);
    assert.equal(sub.lastSeq, 0);
    gates.get(1)!.open();
    await flush();
    assert.deepEqual(second, [1]);
    assert.equal(sub.lastSeq, 1);
    gates.get(2)!.open();
    await flush();
    gates.get(3)!.open();
    await flush();
    assert.equal(maxRunning, 1);
    assert.deepEqual(seenLastSeq, [0, 1, 2]);
    assert.equal(sub.lastSeq, 3);
  });

  it('close() during an async handler: it completes, nothing after it starts', async () => {
    const env = fakeEnv();
    const g = gate();
    const started: number[] = [];
    const finished: number[] = [];
    const sub = env.client.project(PROJECT).subscribe({
      cursor: 0,
      onEvent: async (e) => {
        started.push(e.seq);
        if (e.seq === 1) await g.wait;
        finished.push(e.seq);
      },
    });
    const later: number[] = [];
    sub.on('task_updated', (e) => void later.push(e.seq));
    const s = (await socketNumber(env, 1)).open().caughtUp(0).sendAll([ev(1), ev(2), ev(3)]);
    await flush();
    sub.close();
    g.open();
    await flush();
    s.deliver(ev(4));
    await env.clock.advance(120_000);
    assert.deepEqual(started, [1]);
    assert.deepEqual(finished, [1]);
    assert.deepEqual(later, [], 'the other handlers of the in-flight event do not start either');
    assert.equal(sub.lastSeq, 0, 'an event cut short does not advance the cursor');
    assert.equal(sub.state, 'closed');
    assert.equal(s.clientClose?.code, 1000);
    assert.equal(env.sockets.count, 1, 'no reconnect after close');
  });

  it('close() with buffered messages delivers none of them', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const rec = new Recorder().project(sub);
    const s = (await socketNumber(env, 1)).open().caughtUp(0);
    s.sendAll([ev(1), ev(2), ev(3)]);
    sub.close(); // before the microtask that would start the handlers
    await flush();
    assert.deepEqual(rec.seqs, []);
    await assert.rejects(sub.caughtUp);
  });

  it('close() during a refill: the refilled events are not delivered', async () => {
    const env = fakeEnv();
    env.log.head = 5;
    const g = gate();
    env.http.on('GET', /\/api\/v1\/projects\/1\/events/, async () => (await g.wait, json(200, evs(2, 5), { 'X-Event-Seq': '5' })));
    const sub = env.client.project(PROJECT).subscribe({ cursor: 1 });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).open().caughtUp(1).deliver(ev(5));
    await flush();
    sub.close();
    g.open();
    await flush();
    assert.deepEqual(rec.seqs, []);
  });

  it('a handler that throws is reported through on("error") and the stream goes on', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({
      cursor: 0,
      onEvent: (e) => {
        if (e.seq === 1) throw new Error('bug');
      },
    });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).open().caughtUp(0).sendAll([ev(1), ev(2)]);
    await flush();
    assert.deepEqual(rec.seqs, [1, 2]);
    assert.equal(rec.errors[0]?.kind, 'handler');
    assert.equal(sub.lastSeq, 2);
  });

  it('a frame that is not JSON is reported and skipped', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).open().caughtUp(0).deliver('{nope').deliver(ev(1));
    await flush();
    assert.deepEqual(rec.seqs, [1]);
    assert.equal(rec.errors[0]?.kind, 'protocol');
  });
});
