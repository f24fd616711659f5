import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createClient, type ProjectEvent, type SubscriptionState, type TaskwireClient } from '../../src/index.js';
import { buildServer, startServer, waitFor, type TestServer } from '../helpers/index.js';

const bin = buildServer();
const run = Date.now().toString(36);
const skip = bin === undefined ? 'no Go toolchain to build the server' : false;

async function user(server: TestServer, name: string, extra: Partial<Parameters<typeof createClient>[0]> = {}) {
  const username = `${name}${run}`;
  const password = 'pw-' + name;
  const anon = createClient({ baseUrl: server.url });
  const me = await anon.auth.signup({ email: `${username}@example.com`, username, password });
  const login = async () => (await anon.auth.login({ username, password }, { remember: false })).access_token;
  const client = createClient({
    baseUrl: server.url,
    WebSocket,
    getToken: login,
    live: { baseMs: 50, capMs: 500, minMs: 20 },
    ...extra,
  });
  return { client, id: me.id, username };
}

describe('live streams against the real server', { skip }, () => {
  let server: TestServer;
  let alice: { client: TaskwireClient; id: number; username: string };
  let bob: { client: TaskwireClient; id: number; username: string };

  before(async () => {
    server = await startServer(bin!, { WS_HEARTBEAT_INTERVAL: '1s' });
    alice = await user(server, 'alice');
    bob = await user(server, 'bob');
  });
  after(async () => {
    await server?.dispose();
  });

  it('delivers every event once, in order, across a server restart (1001, then refused connections)', { timeout: 60_000 }, async () => {
    const p = await alice.client.projects.create({ name: 'Live' });
    const { seq } = await alice.client.projects.get(p.id);
    const seen: ProjectEvent[] = [];
    const states: SubscriptionState[] = [];
    const sub = alice.client.project(p.id).subscribe({ cursor: seq, onEvent: (e) => void seen.push(e) });
    sub.on('state', (s) => void states.push(s));
    assert.equal(await sub.caughtUp, seq);
    const t = await alice.client.tasks.create(p.id, { title: 'one' });
    await alice.client.tasks.setStatus(t.id, 'done');
    await waitFor(() => seen.length === 2, 10_000, 'two events');
    await server.restart();
    await alice.client.tasks.update(t.id, { title: 'after restart' });
    await alice.client.projects.addMember(p.id, { userId: bob.id });
    await waitFor(() => seen.length === 4, 20_000, 'the events after the restart');
    assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3, 4]);
    assert.deepEqual(seen.map((e) => e.event), ['task_created', 'status_changed', 'task_updated', 'member_added']);
    assert.equal(sub.lastSeq, 4);
    assert.ok(states.includes('reconnecting'));
    assert.equal(sub.state, 'live');
    sub.close();
  });

  it('a live board follows another member’s changes; removal revokes their stream', { timeout: 30_000 }, async () => {
    const p = await alice.client.projects.create({ name: 'Board' });
    await alice.client.projects.addMember(p.id, { username: bob.username });
    const board = alice.client.project(p.id).live();
    await board.ready;
    await board.subscription!.caughtUp;
    const bobs = bob.client.project(p.id).subscribe({});
    await bobs.caughtUp;
    await waitFor(() => board.board.presence.has(bob.id), 10_000, 'bob in presence');
    const t = await bob.client.tasks.create(p.id, { title: 'from bob' });
    await bob.client.tasks.setStatus(t.id, 'in_progress');
    await waitFor(() => board.board.tasks.get(t.id)?.status === 'in_progress', 10_000, 'the board to follow');
    await alice.client.projects.removeMember(p.id, bob.id);
    await waitFor(() => bobs.state === 'revoked', 10_000, 'bob revoked');
    await waitFor(() => !board.board.members.has(bob.id) && !board.board.presence.has(bob.id), 10_000, 'bob gone from the board');
    assert.equal(board.board.seq, (await alice.client.projects.get(p.id)).seq);
    board.close();
  });

  it('notifications arrive on /ws/notifications', { timeout: 30_000 }, async () => {
    const p = await alice.client.projects.create({ name: 'Notify' });
    const { seq } = await bob.client.notifications.list();
    const got: string[] = [];
    const sub = bob.client.notifications.subscribe({ cursor: seq, onNotification: (n) => void got.push(n.type) });
    await sub.caughtUp;
    await alice.client.projects.addMember(p.id, { userId: bob.id });
    await alice.client.tasks.create(p.id, { title: 'for bob', assignee_id: bob.id });
    await waitFor(() => got.length === 2, 10_000, 'two notifications');
    assert.deepEqual(got, ['member_added', 'task_assigned']);
    assert.equal(sub.lastSeq, seq + 2);
    sub.close();
  });

  it('a refused handshake for a stranger ends revoked', { timeout: 30_000 }, async () => {
    const p = await alice.client.projects.create({ name: 'Private' });
    const sub = bob.client.project(p.id).subscribe({});
    await waitFor(() => sub.state === 'revoked', 10_000, 'revoked');
  });
});

describe('token expiry against the real server', { skip }, () => {
  it('4401: gets a fresh token from getToken and resumes with since', { timeout: 60_000 }, async () => {
    const server = await startServer(bin!, { JWT_TTL: '2s' });
    try {
      let logins = 0;
      const anon = createClient({ baseUrl: server.url });
      await anon.auth.signup({ email: `t${run}@example.com`, username: `t${run}`, password: 'pw' });
      const client = createClient({
        baseUrl: server.url,
        WebSocket,
        getToken: async () => (logins++, (await anon.auth.login({ username: `t${run}`, password: 'pw' }, { remember: false })).access_token),
      });
      const p = await client.projects.create({ name: 'Expiring' });
      const codes: number[] = [];
      const seen: number[] = [];
      const sub = client.project(p.id).subscribe({ cursor: 0, onEvent: (e) => void seen.push(e.seq) });
      sub.on('state', (_s, info) => void (info.code !== undefined && codes.push(info.code)));
      await sub.caughtUp;
      await waitFor(() => codes.includes(4401), 10_000, 'the 4401 close');
      await waitFor(() => sub.state === 'live', 10_000, 'live again');
      await client.tasks.create(p.id, { title: 'after expiry' });
      await waitFor(() => seen.length === 1, 10_000, 'the event');
      assert.ok(logins >= 2);
      sub.close();
    } finally {
      await server.dispose();
    }
  });
});
