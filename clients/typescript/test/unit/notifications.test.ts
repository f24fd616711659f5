import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Recorder, fakeEnv, flush, json, nextSocket, notification, socketNumber } from '../helpers/index.js';

const note = (seq: number) => ({ event: 'notification', data: notification(seq), seq });

describe('notification stream', () => {
  it('opens /ws/notifications with token and since, delivers notifications in order once', async () => {
    const env = fakeEnv();
    const got: number[] = [];
    const sub = env.client.notifications.subscribe({ cursor: 2, onNotification: (n) => void got.push(n.id) });
    const rec = new Recorder().notifications(sub);
    const s = (await socketNumber(env, 1)).open();
    assert.equal(s.path, '/ws/notifications');
    assert.equal(s.since, 2);
    assert.equal(s.token, 't1');
    s.sendAll([note(3), note(3), note(2), note(4)]).caughtUp(4);
    await flush();
    assert.deepEqual(rec.seqs, [3, 4]);
    assert.deepEqual(got, [103, 104]);
    assert.equal(sub.lastSeq, 4);
    assert.equal(await sub.caughtUp, 4);
  });

  it('a gap is repaired by reconnecting with since (there is no REST since for notifications)', async () => {
    const env = fakeEnv();
    const sub = env.client.notifications.subscribe({ cursor: 0 });
    const rec = new Recorder().notifications(sub);
    const s1 = (await socketNumber(env, 1)).open().caughtUp(0).sendAll([note(1), note(3)]);
    await flush();
    assert.equal(s1.attached, false);
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 1);
    socket.open().sendAll([note(2), note(3)]).caughtUp(3);
    await flush();
    assert.deepEqual(rec.seqs, [1, 2, 3]);
  });

  it('a heartbeat above lastSeq also reconnects with since', async () => {
    const env = fakeEnv();
    const sub = env.client.notifications.subscribe({ cursor: 0 });
    const rec = new Recorder().notifications(sub);
    (await socketNumber(env, 1)).open().caughtUp(0).heartbeat(2);
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 0);
    socket.open().sendAll([note(1), note(2)]).caughtUp(2);
    await flush();
    assert.deepEqual(rec.seqs, [1, 2]);
  });

  it('a refused handshake is probed with GET /notifications (X-Notification-Seq)', async () => {
    const env = fakeEnv();
    env.http.on('GET', /\/api\/v1\/notifications/, json(200, [], { 'X-Notification-Seq': '3', 'X-Unread-Count': '0' }));
    const resyncs: number[] = [];
    const sub = env.client.notifications.subscribe({ cursor: 9 });
    sub.on('resync', (seq) => void resyncs.push(seq));
    (await socketNumber(env, 1)).refuse(422);
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 3);
    await flush();
    assert.deepEqual(resyncs, [3]);
    assert.equal(env.http.calls[0]?.query.get('limit'), '1');
  });
});
