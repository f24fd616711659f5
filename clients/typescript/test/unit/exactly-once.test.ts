import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PROJECT, ev, fakeEnv, flush, type FakeSocket } from '../helpers/index.js';

/** How one connection of the simulated server misbehaves before it drops. */
interface ConnScript {
  /** The socket sends events up to this seq (capped at the log's head), then drops. */
  upTo: number;
  /** Seqs the socket leaves out (a lost publish): the client must refill them. */
  skip: number[];
  /** Every this many events, the previous one is sent again. */
  dupEvery: number | null;
  /** A heartbeat announcing the socket's position before the drop. */
  heartbeat: boolean;
  /** Sent after the replay, before the drop. */
  caughtUp: boolean;
  close: 1001 | 1006 | 1011 | 4408 | 4401;
}

const connArb: fc.Arbitrary<ConnScript> = fc.record({
  upTo: fc.integer({ min: 0, max: 30 }),
  skip: fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 4 }),
  dupEvery: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  heartbeat: fc.boolean(),
  caughtUp: fc.boolean(),
  close: fc.constantFrom(1001 as const, 1006 as const, 1011 as const, 4408 as const, 4401 as const),
});

/** Plays one connection: replay from since with faults, then the close code. */
function play(s: FakeSocket, head: number, script: ConnScript | undefined): void {
  const since = s.since ?? 0;
  s.open();
  if (!script) {
    // The last connection behaves: everything after since, caught_up, live.
    for (let seq = since + 1; seq <= head; seq++) s.deliver(ev(seq));
    s.caughtUp(head);
    return;
  }
  const last = Math.min(script.upTo, head);
  let sent = 0;
  for (let seq = since + 1; seq <= last; seq++) {
    if (script.skip.includes(seq)) continue;
    s.deliver(ev(seq));
    sent++;
    if (script.dupEvery !== null && sent % script.dupEvery === 0) s.deliver(ev(Math.max(1, seq - 1)));
  }
  if (script.caughtUp) s.caughtUp(Math.max(since, last));
  if (script.heartbeat) s.heartbeat(Math.max(since, last));
  s.serverClose(script.close);
}

describe('exactly once, in order, across reconnects (property)', () => {
  it('any mix of drops, duplicates, lost publishes and close codes delivers 1..N once each, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.array(connArb, { maxLength: 6 }),
        fc.boolean(),
        async (head, scripts, asyncHandlers) => {
          const env = fakeEnv({ random: () => 0.5, client: { getToken: () => 'again' } });
          env.log.head = head;
          let n = 0;
          env.sockets.onConnect = (s) => play(s, head, scripts[n++]);
          const seen: number[] = [];
          let running = 0;
          const sub = env.client.project(PROJECT).subscribe({
            cursor: 0,
            onEvent: async (e) => {
              assert.equal(running++, 0, 'handlers overlap');
              if (asyncHandlers) await new Promise((r) => setImmediate(r));
              seen.push(e.seq);
              running--;
            },
          });
          for (let i = 0; i < 40 && sub.state !== 'live'; i++) await env.clock.advance(30_000);
          await flush();
          assert.equal(sub.state, 'live');
          assert.deepEqual(seen, Array.from({ length: head }, (_, i) => i + 1));
          assert.equal(sub.lastSeq, head);
          sub.close();
        },
      ),
      { numRuns: 100 },
    );
  });
});
