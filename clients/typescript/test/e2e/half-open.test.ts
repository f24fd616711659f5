import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer, waitFor } from '../helpers/index.js';
import { directClient, newActor, proxiedClient, readerLive } from './support/actors.js';
import { assertRange, converge } from './support/checks.js';
import { Cluster } from './support/cluster.js';
import { StreamObserver, prng } from './support/observers.js';

const bin = buildServer();

describe('end to end: a link that goes silent for good', { skip: bin === undefined ? 'no Go toolchain to build the server' : false }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start(bin!, 1);
  });
  after(async () => {
    await cluster?.dispose();
  });

  it('the watchdog drops the socket, and a refused reconnect’s REST check, sent on a silent keep-alive connection, is given up after connectTimeoutMs', { timeout: 60_000 }, async () => {
    const alice = await newActor(cluster, 'alice');
    const writer = directClient(cluster, alice);
    const reader = proxiedClient(cluster, alice);
    const p = await writer.projects.create({ name: 'half-open' });
    const obs = new StreamObserver('subscriber', prng(1));
    const sub = reader.project(p.id).subscribe({ cursor: 0, onEvent: obs.handle });
    obs.watch(sub);
    try {
      await sub.caughtUp;
      await writer.tasks.create(p.id, { title: 'before' });
      await waitFor(() => sub.lastSeq === 1, 10_000, 'the first event');
      // A REST read leaves a keep-alive connection in the reader's pool...
      await reader.projects.get(p.id);
      // ...then every open connection goes silent (no FIN, no RST), and the server dies behind it.
      const { refused } = cluster.proxy.stats;
      cluster.proxy.blackhole();
      await cluster.instance(0).stop('SIGKILL');
      // The watchdog notices; the reconnect is refused; the client asks GET /projects/{id} on the silent pooled connection.
      await waitFor(() => obs.health.watchdog >= 1 && cluster.proxy.stats.refused > refused, 10_000, 'a refused reconnect after the watchdog');
      await cluster.instance(0).restart();
      await writer.tasks.create(p.id, { title: 'after' });
      // Well under undici's 300 s headers timeout, the only other thing that would end the hung check.
      const done = () => sub.state === 'live' && sub.lastSeq === 2;
      await converge([{ name: 'subscriber', done, describe: () => `${sub.state} at ${String(sub.lastSeq)}` }], 20_000, () => cluster.logs());
      assertRange('subscriber', obs.seqs, 1, 2);
      const gaveUp = obs.health.errors.some((e) => e.kind === 'connection' && /did not answer within 2000 ms/.test(e.message));
      assert.equal(readerLive.connectTimeoutMs, 2_000);
      assert.ok(gaveUp, `the check on the silent connection should have been given up; errors: ${obs.health.errors.map((e) => e.message).join(' | ')}`);
    } finally {
      sub.close();
    }
  });
});
