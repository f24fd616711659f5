import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Backoff } from '../../src/live/backoff.js';
import { browserLifecycle, type Lifecycle } from '../../src/live/lifecycle.js';
import { PROJECT, Recorder, ev, fakeEnv, flush, nextSocket, socketNumber, type FakeSocket } from '../helpers/index.js';

const opts = { baseMs: 250, capMs: 30_000, minMs: 100 };

describe('backoff', () => {
  it('full jitter: the n-th delay lies in [minMs, min(cap, base * 2^n)]', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 60 }), (rs) => {
        let i = 0;
        const b = new Backoff(opts, () => rs[i++]!);
        rs.forEach((r, n) => {
          const d = b.next();
          const ceil = Math.min(opts.capMs, opts.baseMs * 2 ** n);
          assert.ok(d >= opts.minMs, `delay ${d} below the floor`);
          assert.ok(d <= Math.max(opts.minMs, ceil), `delay ${d} above ${ceil}`);
          assert.equal(d, Math.max(opts.minMs, Math.floor(r * ceil)));
        });
      }),
    );
  });

  it('the window doubles up to the cap, and reset() starts over', () => {
    const b = new Backoff(opts, () => 0.999_999);
    const delays = Array.from({ length: 10 }, () => b.next());
    assert.deepEqual(delays, [249, 499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
    b.reset();
    assert.equal(b.next(), 249);
  });

  it('uses the whole window (jitter), never the same fixed delay', () => {
    const b = new Backoff({ ...opts, minMs: 0 }, Math.random);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      b.reset();
      for (let k = 0; k < 5; k++) b.next();
      seen.add(Math.floor(b.next() / 800)); // window of attempt 5: [0, 8000)
    }
    assert.ok(seen.size >= 8, `only ${seen.size} of 10 buckets hit`);
  });
});

/** A server that accepts every socket and drops it at once (optionally after caught_up). */
function acceptAndDrop(live: boolean) {
  return (s: FakeSocket) => {
    s.open();
    if (live) s.caughtUp(0);
    s.serverClose(1006);
  };
}

describe('connection policy', () => {
  it('a server that accepts then closes at once never causes a zero-delay loop', async () => {
    for (const live of [false, true]) {
      const env = fakeEnv({ random: Math.random });
      env.sockets.onConnect = acceptAndDrop(live);
      env.client.project(PROJECT).subscribe({ cursor: 0 });
      await env.clock.advance(60_000);
      // Expected windows 250, 500, ... 16 s, 30 s: about a dozen tries in a minute, never hundreds.
      assert.ok(env.sockets.count <= 20, `${env.sockets.count} sockets in one minute`);
      assert.ok(env.sockets.count >= 4, `${env.sockets.count} sockets in one minute`);
    }
  });

  it('even with random() = 0 every delay keeps the floor', async () => {
    const env = fakeEnv({ random: () => 0 });
    const times: number[] = [];
    env.sockets.onConnect = (s) => {
      times.push(env.clock.now());
      acceptAndDrop(true)(s);
    };
    env.client.project(PROJECT).subscribe({ cursor: 0 });
    await env.clock.advance(10_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps.length > 0 && gaps.every((g) => g >= 100), `gaps ${gaps.join(',')}`);
    assert.ok(env.sockets.count <= 101);
  });

  it('the attempt counter resets only after the connection stayed live for stableMs', async () => {
    const env = fakeEnv({ random: () => 0.999_999 });
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const rec = new Recorder().project(sub);
    (await socketNumber(env, 1)).open().caughtUp(0).serverClose(1006);
    let r = await nextSocket(env);
    assert.equal(r.waitedMs, 249);
    r.socket.open().caughtUp(0);
    await env.clock.advance(9_000); // live, but not for 10 s
    r.socket.serverClose(1006);
    r = await nextSocket(env);
    assert.equal(r.waitedMs, 499, 'not reset: the window kept growing');
    r.socket.open().caughtUp(0);
    await env.clock.advance(10_000); // stable
    r.socket.serverClose(1006);
    r = await nextSocket(env);
    assert.equal(r.waitedMs, 249, 'reset after a stable period');
    assert.deepEqual(rec.infos.filter((i) => i.delayMs !== undefined).map((i) => i.delayMs), [249, 499, 249]);
  });

  it('heartbeat watchdog: silence for 2 x heartbeat closes the socket and resumes with since', async () => {
    const env = fakeEnv({ live: { heartbeatMs: 20_000 } });
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const s1 = (await socketNumber(env, 1)).open().caughtUp(0).deliver(ev(1));
    for (let i = 0; i < 10; i++) {
      await env.clock.advance(20_000);
      s1.heartbeat(1); // a live server: the watchdog never fires
    }
    assert.equal(env.sockets.count, 1);
    await env.clock.advance(39_999);
    assert.equal(env.sockets.count, 1);
    assert.equal(s1.attached, true);
    await env.clock.advance(1);
    assert.equal(s1.attached, false, 'the silent socket was given up');
    assert.equal(s1.clientClose?.code, 4000);
    assert.equal(sub.state, 'reconnecting');
    const { socket } = await nextSocket(env);
    assert.equal(socket.since, 1);
  });

  it('the heartbeat interval is configurable', async () => {
    const env = fakeEnv({ live: { heartbeatMs: 1_000 } });
    env.client.project(PROJECT).subscribe({ cursor: 0 });
    const s1 = (await socketNumber(env, 1)).open().caughtUp(0);
    await env.clock.advance(2_000);
    assert.equal(s1.attached, false);
  });

  it('a handshake that hangs is abandoned after connectTimeoutMs', async () => {
    const env = fakeEnv({ live: { connectTimeoutMs: 5_000 } });
    env.client.project(PROJECT).subscribe({ cursor: 0 });
    const s1 = await socketNumber(env, 1);
    await env.clock.advance(5_000);
    assert.equal(s1.attached, false);
    await nextSocket(env);
  });

  it('maxAttempts: offline after that many failed tries; retry() starts over', async () => {
    const env = fakeEnv({ live: { maxAttempts: 3 } });
    env.sockets.onConnect = (s) => s.open().serverClose(1006);
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const rec = new Recorder().project(sub);
    await env.clock.advance(600_000);
    assert.equal(sub.state, 'offline');
    assert.equal(env.sockets.count, 4, 'the first try and 3 retries');
    env.sockets.onConnect = (s) => s.open().caughtUp(0);
    sub.retry();
    await flush();
    assert.equal(env.sockets.count, 5);
    assert.equal(sub.state, 'live');
    assert.deepEqual([...new Set(rec.states)], ['connecting', 'offline', 'live']);
  });

  it('a wake-up (online, page visible) reconnects at once instead of waiting', async () => {
    let wake: () => void = () => {};
    const lifecycle: Lifecycle = { subscribe: (w) => ((wake = w), () => (wake = () => {})) };
    const env = fakeEnv({ random: () => 0.999_999, client: { lifecycle } });
    env.sockets.onConnect = (s) => s.open().serverClose(1006);
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    await env.clock.advance(20_000); // the window is now several seconds wide
    const before = env.sockets.count;
    assert.ok(env.clock.pending().some((d) => d > 1_000));
    wake();
    await flush();
    assert.equal(env.sockets.count, before + 1);
    sub.close();
    wake();
    await flush();
    assert.equal(env.sockets.count, before + 1, 'closed: the wake-up is ignored');
  });

  it('browserLifecycle listens to online and visibilitychange where they exist', () => {
    const g = globalThis as Record<string, unknown>;
    const listeners = new Map<string, () => void>();
    const target = {
      addEventListener: (t: string, f: () => void) => void listeners.set(t, f),
      removeEventListener: (t: string) => void listeners.delete(t),
    };
    const doc = { ...target, visibilityState: 'hidden' };
    assert.equal(browserLifecycle(), undefined, 'Node has no window events');
    Object.assign(g, { addEventListener: target.addEventListener, removeEventListener: target.removeEventListener, document: doc });
    try {
      let wakes = 0;
      const off = browserLifecycle()!.subscribe(() => wakes++);
      listeners.get('online')!();
      listeners.get('visibilitychange')!();
      doc.visibilityState = 'visible';
      listeners.get('visibilitychange')!();
      assert.equal(wakes, 2);
      off();
      assert.equal(listeners.size, 0);
    } finally {
      delete g['addEventListener'];
      delete g['removeEventListener'];
      delete g['document'];
    }
  });

  it('states: connecting → live → reconnecting → live → closed', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const rec = new Recorder().project(sub);
    assert.equal(sub.state, 'connecting');
    (await socketNumber(env, 1)).open().caughtUp(0).serverClose(1001);
    (await nextSocket(env)).socket.open().caughtUp(0);
    sub.close();
    assert.deepEqual(rec.states, ['live', 'reconnecting', 'live', 'closed']);
  });
});
