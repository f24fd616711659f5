import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BoardChange } from '../../src/index.js';
import { PROJECT, ev, fakeEnv, flush, json, nextSocket, socketNumber, task, type FakeEnv } from '../helpers/index.js';

const alice = { project_id: 1, user_id: 1, user: { id: 1, email: 'a@x.io', username: 'alice' } };

/** Serves project 1 at log.head with the given tasks and presence. */
function serveBoard(env: FakeEnv, state: { tasks: ReturnType<typeof task>[]; taskSeq?: () => number }) {
  const seq = () => String(env.log.head);
  env.http.on('GET', /\/api\/v1\/projects\/1/, () =>
    json(200, { id: 1, name: 'P', description: null, owner_id: 1, members: [alice] }, { 'X-Event-Seq': seq() }),
  );
  env.http.on('GET', /\/api\/v1\/projects\/1\/tasks/, () =>
    json(200, state.tasks, { 'X-Event-Seq': String(state.taskSeq ? state.taskSeq() : env.log.head) }),
  );
  env.http.on('GET', /\/api\/v1\/projects\/1\/presence/, json(200, [{ user_id: 1, username: 'alice', connections: 2 }]));
}

describe('live board', () => {
  it('loads a snapshot, opens the socket at its seq and applies events in order', async () => {
    const env = fakeEnv();
    env.log.head = 5;
    serveBoard(env, { tasks: [task(1), task(2)] });
    const live = env.client.project(PROJECT).live();
    const changes: BoardChange['type'][] = [];
    live.on('change', (_b, c) => void changes.push(c.type));
    const board = await live.ready;
    assert.equal(board.seq, 5);
    assert.deepEqual([...board.tasks.keys()], [1, 2]);
    assert.equal(board.members.get(1)?.user.username, 'alice');
    assert.equal(board.presence.get(1)?.connections, 2);
    const s = await socketNumber(env, 1);
    assert.equal(s.since, 5);
    s.open().caughtUp(5);
    s.deliver(ev(6, 'task_created', task(3, { title: 'new' })));
    s.deliver(ev(7, 'status_changed', task(1, { status: 'done', version: 2 })));
    s.deliver(ev(8, 'task_deleted', { id: 2, project_id: 1 }));
    s.deliver(ev(9, 'member_added', { project_id: 1, user_id: 2, user: { id: 2, username: 'bob' } }));
    s.deliver(ev(10, 'project_updated', { id: 1, name: 'Renamed', description: 'd', owner_id: 1 }));
    s.deliver(ev(11, 'member_removed', { project_id: 1, user_id: 1 }));
    s.deliver({ event: 'presence_left', data: { user_id: 1, username: 'alice' }, project_id: 1, ts: 'x' });
    s.deliver({ event: 'presence_joined', data: { user_id: 2, username: 'bob' }, project_id: 1, ts: 'x' });
    await flush();
    const b = live.board;
    assert.equal(b.seq, 11);
    assert.deepEqual([...b.tasks.keys()].sort(), [1, 3]);
    assert.equal(b.tasks.get(1)?.status, 'done');
    assert.equal(b.project?.name, 'Renamed');
    assert.deepEqual([...b.members.keys()], [2]);
    assert.deepEqual([...b.presence.keys()], [2]);
    assert.equal(live.state, 'live');
    assert.deepEqual(changes.filter((c) => c !== 'presence'), ['snapshot', 'event', 'event', 'event', 'event', 'event', 'event']);
  });

  it('retries the snapshot while the project and task reads disagree on X-Event-Seq', async () => {
    const env = fakeEnv();
    env.log.head = 5;
    let n = 0;
    serveBoard(env, { tasks: [task(1)], taskSeq: () => (n++ === 0 ? 6 : 5) });
    const board = await env.client.project(PROJECT).live().ready;
    assert.equal(board.seq, 5);
    assert.equal(env.http.callsTo('GET', /\/api\/v1\/projects\/1\/tasks/).length, 2);
    assert.equal(env.http.callsTo('GET', /\/api\/v1\/projects\/1/).length, 2);
  });

  it('when the reads keep disagreeing, brings the older one up to the newer from the log', async () => {
    const env = fakeEnv();
    env.log.head = 4; // the project read says 4; the task read (seq 6) already has task 9
    serveBoard(env, { tasks: [task(9)], taskSeq: () => 6 });
    env.http.on('GET', /\/api\/v1\/projects\/1\/events/, json(200, [
      ev(5, 'project_updated', { id: 1, name: 'Later', description: null, owner_id: 1 }),
      ev(6, 'task_created', task(9)),
    ], { 'X-Event-Seq': '6' }));
    const board = await env.client.project(PROJECT).live({ snapshotAttempts: 2 }).ready;
    assert.equal(board.seq, 6);
    assert.equal(board.project?.name, 'Later');
    assert.deepEqual([...board.tasks.keys()], [9]);
    assert.equal((await socketNumber(env, 1)).since, 6);
  });

  it('resync_required reloads the snapshot; events it already reflects are not applied twice', async () => {
    const env = fakeEnv();
    env.log.head = 2;
    const state = { tasks: [task(1)] };
    serveBoard(env, state);
    const live = env.client.project(PROJECT).live();
    await live.ready;
    const s = (await socketNumber(env, 1)).open();
    env.log.head = 12;
    state.tasks = [task(1, { title: 'reloaded', version: 5 })];
    const applied: number[] = [];
    live.on('change', (_b, c) => void (c.type === 'event' && applied.push(c.event.seq)));
    s.resync(10).caughtUp(10);
    s.deliver(ev(11, 'task_updated', task(1, { title: 'stale', version: 4 })));
    s.deliver(ev(13, 'task_created', task(2)));
    await flush();
    assert.equal(live.board.tasks.get(1)?.title, 'reloaded');
    assert.equal(live.board.seq, 13);
    assert.deepEqual(applied, [13]);
  });

  it('refreshes presence after each reconnection (presence is not in the log)', async () => {
    const env = fakeEnv();
    serveBoard(env, { tasks: [] });
    const live = env.client.project(PROJECT).live();
    await live.ready;
    (await socketNumber(env, 1)).open().caughtUp(0).serverClose(1006);
    env.http.on('GET', /\/api\/v1\/projects\/1\/presence/, json(200, [{ user_id: 7, username: 'gus', connections: 1 }]));
    (await nextSocket(env)).socket.open().caughtUp(0);
    await flush();
    assert.deepEqual([...live.board.presence.keys()], [7]);
  });

  it('project_deleted then 4403: the board empties and the state is revoked', async () => {
    const env = fakeEnv();
    serveBoard(env, { tasks: [task(1)] });
    const live = env.client.project(PROJECT).live();
    const states: string[] = [];
    live.on('state', (s) => void states.push(s));
    await live.ready;
    (await socketNumber(env, 1)).open().caughtUp(0).deliver(ev(1, 'project_deleted', { id: 1 })).serverClose(4403);
    await flush();
    assert.equal(live.board.project, null);
    assert.equal(live.board.tasks.size, 0);
    assert.equal(live.state, 'revoked');
    assert.deepEqual(states, ['live', 'revoked']);
  });

  it('close() stops the board: no more changes', async () => {
    const env = fakeEnv();
    serveBoard(env, { tasks: [] });
    const live = env.client.project(PROJECT).live();
    await live.ready;
    const s = (await socketNumber(env, 1)).open().caughtUp(0);
    live.close();
    s.deliver(ev(1, 'task_created', task(1)));
    await flush();
    assert.equal(live.board.tasks.size, 0);
    assert.equal(live.state, 'closed');
  });
});
