import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FaultProxy, waitFor } from '../helpers/index.js';

/** A TCP server that greets with its name and echoes what it gets; `peers` are its open sockets. */
async function upstream(name: string): Promise<{ server: Server; port: number; peers: Set<Socket> }> {
  const peers = new Set<Socket>();
  const server = createServer((s) => {
    peers.add(s);
    s.on('close', () => peers.delete(s));
    s.on('error', () => {});
    s.write(`${name}:`);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port, peers };
}

/** A client connection that records what it received and how it ended. */
function dial(port: number) {
  const s = connect({ host: '127.0.0.1', port });
  const seen = { data: '', ended: false, error: undefined as string | undefined, closed: false };
  s.setEncoding('utf8');
  s.on('data', (d: string) => (seen.data += d));
  s.on('end', () => (seen.ended = true));
  s.on('error', (e: NodeJS.ErrnoException) => (seen.error = e.code ?? e.message));
  s.on('close', () => (seen.closed = true));
  return { s, seen };
}

describe('FaultProxy', () => {
  let a: Awaited<ReturnType<typeof upstream>>;
  let b: Awaited<ReturnType<typeof upstream>>;
  let proxy: FaultProxy;

  before(async () => {
    a = await upstream('A');
    b = await upstream('B');
    proxy = await FaultProxy.start(a.port);
  });
  after(async () => {
    await proxy.close();
    for (const u of [a, b]) {
      for (const p of u.peers) p.destroy();
      u.server.close();
    }
  });

  it('forwards both ways', async () => {
    const c = dial(proxy.port);
    c.s.write('hello');
    await waitFor(() => c.seen.data === 'A:hello', 5_000, 'the echo');
    c.s.destroy();
  });

  it('a stall holds bytes and ends, both ways, without closing anything; pass releases them in order', async () => {
    const c = dial(proxy.port);
    await waitFor(() => c.seen.data === 'A:', 5_000, 'the greeting');
    proxy.stall('both');
    c.s.write('one');
    const peer = [...a.peers].at(-1)!;
    peer.write('-two');
    peer.end();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(c.seen.data, 'A:');
    assert.equal(c.seen.ended || c.seen.closed, false, 'the client must not notice a stall');
    proxy.pass();
    await waitFor(() => c.seen.ended, 5_000, 'the held end');
    assert.equal(c.seen.data, 'A:-two', 'the echo of "one" cannot come after the server ended');
    c.s.destroy();
  });

  it('a downstream-only stall still carries the client’s bytes up', async () => {
    const c = dial(proxy.port);
    await waitFor(() => c.seen.data === 'A:', 5_000, 'the greeting');
    proxy.stall('down');
    c.s.write('up');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.seen.data, 'A:');
    proxy.pass();
    await waitFor(() => c.seen.data === 'A:up', 5_000, 'the held echo');
    c.s.destroy();
  });

  it('cut: RST gives the client ECONNRESET, FIN an orderly end', async () => {
    const r = dial(proxy.port);
    const f = dial(proxy.port);
    await waitFor(() => r.seen.data === 'A:' && f.seen.data === 'A:', 5_000, 'the greetings');
    assert.equal(proxy.cut('rst'), 2);
    await waitFor(() => r.seen.closed && f.seen.closed, 5_000, 'both closed');
    assert.equal(r.seen.error, 'ECONNRESET');
    const g = dial(proxy.port);
    await waitFor(() => g.seen.data === 'A:', 5_000, 'the greeting');
    proxy.cut('fin');
    await waitFor(() => g.seen.ended, 5_000, 'the FIN');
    assert.equal(g.seen.error, undefined);
    g.s.destroy();
  });

  it('switches the target of new connections; a dead target resets the client', async () => {
    proxy.setTarget(b.port);
    const c = dial(proxy.port);
    await waitFor(() => c.seen.data === 'B:', 5_000, 'B');
    c.s.destroy();
    const dead = await upstream('dead');
    dead.server.close();
    await new Promise((r) => setTimeout(r, 50));
    proxy.setTarget(dead.port);
    const refusedBefore = proxy.stats.refused;
    const d = dial(proxy.port);
    await waitFor(() => d.seen.closed, 5_000, 'the reset');
    assert.equal(d.seen.error, 'ECONNRESET');
    assert.equal(proxy.stats.refused, refusedBefore + 1);
    proxy.setTarget(a.port);
  });
});
