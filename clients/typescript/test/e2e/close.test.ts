import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProjectSubscription, TaskwireClient } from '../../src/index.js';
import { buildServer, waitFor } from '../helpers/index.js';
import { directClient, newActor, proxiedClient, type Actor } from './support/actors.js';
import { converge, logHead } from './support/checks.js';
import { Cluster } from './support/cluster.js';
import { BoardObserver, StreamObserver, prng } from './support/observers.js';

const bin = buildServer();

describe('end to end: close() during faults delivers nothing afterwards', { skip: bin === undefined ? 'no Go toolchain to build the server' : false }, () => {
  let cluster: Cluster;
  let alice: Actor;
  let writer: TaskwireClient;
  let reader: TaskwireClient;
  /** Closed at the end of each test whatever happened, so a failure cannot leave a stream retrying. */
  let open: { close(): void }[] = [];

  before(async () => {
    cluster = await Cluster.start(bin!, 1);
    alice = await newActor(cluster, 'alice');
    writer = directClient(cluster, alice);
    reader = proxiedClient(cluster, alice);
  });
  after(async () => {
    await cluster?.dispose();
  });

  /** A project with a control subscriber that is never closed: once it has everything, so would have the closed one. */
  async function project(events = 0) {
    cluster.proxy.pass();
    const p = await writer.projects.create({ name: 'close' });
    for (let i = 0; i < events; i++) await writer.tasks.create(p.id, { title: `t${i}` });
    const control = reader.project(p.id).subscribe({ cursor: 0 });
    open.push(control);
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) await writer.tasks.create(p.id, { title: `w${i}` });
    };
    /** Heals the link, writes more, and waits until the control subscriber is live with all of it. */
    const healAndDrain = async (more = 3) => {
      cluster.proxy.pass();
      await write(more);
      const n = await logHead(writer, p.id);
      const done = () => control.state === 'live' && control.lastSeq === n;
      await converge([{ name: 'control subscriber', done, describe: () => `${control.state} at ${String(control.lastSeq)} of ${n}` }], 30_000, () => cluster.logs());
    };
    return { id: p.id, write, healAndDrain };
  }

  function subscribe(projectId: number, obs: StreamObserver, cursor = 0): ProjectSubscription {
    const sub = reader.project(projectId).subscribe({ cursor, onEvent: obs.handle });
    open.push(sub);
    obs.watch(sub);
    return sub;
  }

  function assertQuiet(obs: { afterClose: string[] }, state: string): void {
    assert.deepEqual(obs.afterClose, [], 'nothing may happen after close()');
    assert.equal(state, 'closed');
  }

  async function cleanup(): Promise<void> {
    for (const s of open) s.close();
    open = [];
    cluster.proxy.pass();
    if (!cluster.instance(0).running) await cluster.instance(0).restart();
  }

  it('closed while its socket is stalled with events held in the link', { timeout: 60_000 }, async () => {
    try {
      const p = await project();
      const obs = new StreamObserver('closed', prng(1));
      const sub = subscribe(p.id, obs);
      await sub.caughtUp;
      cluster.proxy.stall('both');
      await p.write(3); // sent by the server, held by the proxy
      const lastSeq = sub.lastSeq;
      sub.close();
      obs.closed();
      await p.healAndDrain();
      assertQuiet(obs, sub.state);
      assert.equal(sub.lastSeq, lastSeq);
    } finally {
      await cleanup();
    }
  });

  it('closed while reconnecting to a killed server (refused tries, failing REST checks)', { timeout: 60_000 }, async () => {
    try {
      const p = await project(2);
      const obs = new StreamObserver('closed', prng(2));
      const sub = subscribe(p.id, obs);
      await waitFor(() => sub.lastSeq === 2, 10_000, 'the backlog');
      await cluster.instance(0).stop('SIGKILL');
      const refused = cluster.proxy.stats.refused;
      await waitFor(() => sub.state === 'reconnecting' && cluster.proxy.stats.refused > refused, 10_000, 'a refused reconnect');
      sub.close();
      obs.closed();
      await cluster.instance(0).restart();
      await p.healAndDrain();
      assertQuiet(obs, sub.state);
      assert.equal(sub.lastSeq, 2);
    } finally {
      await cleanup();
    }
  });

  it('closed while a slow handler runs during the replay after a cut: it completes, nothing after it starts', { timeout: 60_000 }, async () => {
    try {
      const p = await project(40);
      const obs = new StreamObserver('closed', prng(3), 15);
      const sub = subscribe(p.id, obs);
      await waitFor(() => obs.completed.length >= 5, 10_000, 'a few handled events');
      cluster.proxy.cut('rst');
      const before = obs.seqs.length;
      // The queue keeps draining and the replay resumes with since: close in the middle of a handler.
      await waitFor(() => obs.seqs.length >= before + 3 && obs.running, 10_000, 'a handler running after the cut');
      const running = obs.seqs.at(-1)!;
      sub.close();
      obs.closed();
      await waitFor(() => !obs.running, 5_000, 'the running handler to finish');
      await p.healAndDrain();
      assertQuiet(obs, sub.state);
      assert.equal(obs.completed.at(-1), running, 'the handler running at close() completes');
      assert.equal(obs.seqs.at(-1), running, 'no handler starts after it');
      assert.equal(sub.lastSeq, running, 'its only handler completed, so lastSeq reaches it, and no further');
      assert.ok(running < 43, 'closed before the end of the stream');
    } finally {
      await cleanup();
    }
  });

  it('a live board closed during a stall and a SIGTERM restart', { timeout: 60_000 }, async () => {
    try {
      const p = await project(3);
      const board = reader.project(p.id).live();
      open.push(board);
      const obs = await new BoardObserver('board').watch(board);
      await board.subscription!.caughtUp;
      cluster.proxy.stall('down');
      await p.write(2);
      await cluster.instance(0).restart('SIGTERM');
      const seq = board.board.seq;
      board.close();
      obs.closed();
      await p.healAndDrain();
      assertQuiet(obs, board.state);
      assert.equal(board.board.seq, seq);
    } finally {
      await cleanup();
    }
  });

  it('a notification stream closed right after a cut', { timeout: 60_000 }, async () => {
    try {
      const bob = await newActor(cluster, 'bob');
      const bobReader = proxiedClient(cluster, bob);
      const p = await project();
      await writer.projects.addMember(p.id, { userId: bob.id });
      const control = bobReader.notifications.subscribe({ cursor: 0 });
      const obs = new StreamObserver('closed', prng(5));
      const inbox = bobReader.notifications.subscribe({ cursor: 0, onNotification: obs.handle });
      open.push(control, inbox);
      obs.watch(inbox);
      await waitFor(() => inbox.lastSeq === 1 && control.lastSeq === 1, 10_000, 'member_added');
      cluster.proxy.cut('fin');
      inbox.close();
      obs.closed();
      for (let i = 0; i < 3; i++) await writer.tasks.create(p.id, { title: `for bob ${i}`, assignee_id: bob.id });
      await waitFor(() => control.state === 'live' && control.lastSeq === 4, 30_000, 'the control inbox');
      assertQuiet(obs, inbox.state);
      assert.equal(inbox.lastSeq, 1);
    } finally {
      await cleanup();
    }
  });

  it('closed before its first caught_up, while the handshake is held by a stalled link', { timeout: 60_000 }, async () => {
    try {
      const p = await project(2);
      cluster.proxy.stall('both');
      const accepted = cluster.proxy.stats.accepted;
      const obs = new StreamObserver('closed', prng(6));
      const sub = subscribe(p.id, obs);
      await waitFor(() => cluster.proxy.stats.accepted > accepted, 5_000, 'the held handshake');
      sub.close();
      obs.closed();
      await assert.rejects(sub.caughtUp, /closed before catching up/);
      await p.healAndDrain();
      assertQuiet(obs, sub.state);
      assert.deepEqual(obs.seqs, []);
    } finally {
      await cleanup();
    }
  });
});
