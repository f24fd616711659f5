import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer, privateSchema, redisPrefix, services } from '../helpers/index.js';
import { Cluster } from './support/cluster.js';
import { prng } from './support/observers.js';
import { Scene } from './support/scene.js';
import { Tally, type Step } from './support/steps.js';
import { mutationKinds } from './support/writer.js';

const bin = buildServer();
const svc = services();

/** `k` mutations drawn from a seeded generator. */
function writes(random: () => number, k: number): Step[] {
  return Array.from({ length: k }, () => ({
    kind: 'mutate' as const,
    op: mutationKinds[Math.floor(random() * mutationKinds.length)]!,
    pick: Math.floor(random() * 1000),
  }));
}

/**
 * Instances A (0) and B (1) on one PostgreSQL and one Redis; the proxy is
 * the load balancer. Events written on one instance reach readers on the
 * other through Redis; the readers are moved between instances mid-stream,
 * and A is killed under them before the balancer notices.
 */
function script(random: () => number): Step[] {
  const w = (k: number) => writes(random, k);
  return [
    ...w(4),
    { kind: 'writeVia', instance: 1 },
    ...w(3), // written on B, read on A
    { kind: 'sync' },
    { kind: 'route', to: 1, cut: 'fin' },
    ...w(3), // the readers moved to B mid-stream
    { kind: 'sync' },
    { kind: 'route', to: 0 },
    { kind: 'stall', dir: 'both', ms: 900 },
    ...w(3), // written while the links are silent; the watchdog moves the readers back to A
    { kind: 'settle' },
    { kind: 'sync' }, // everyone live on A
    { kind: 'kill', instance: 0 },
    ...w(3), // A died under the readers; their reconnections are refused (the balancer still points at A)
    { kind: 'pause', ms: 400 },
    { kind: 'route', to: 1 },
    ...w(3), // the balancer noticed: the readers land on B
    { kind: 'start', instance: 0 },
    { kind: 'writeVia', instance: 0 },
    ...w(2),
    { kind: 'sync' },
    { kind: 'route', to: 0, cut: 'rst' },
    ...w(2),
    { kind: 'sync' },
    { kind: 'restart', signal: 'SIGTERM' }, // A again, with 1001 this time
    ...w(2),
  ];
}

describe('end to end under faults: two instances on PostgreSQL and Redis', () => {
  if (bin === undefined) {
    it('needs the server', { skip: 'no Go toolchain to build the server' }, () => {});
    return;
  }
  if ('missing' in svc) {
    if (svc.required) {
      it('needs PostgreSQL and Redis', () => assert.fail(`TASKWIRE_REQUIRE_SERVER=1 but ${svc.missing}`));
    } else {
      it('needs PostgreSQL and Redis', { skip: svc.missing }, () => {});
    }
    return;
  }
  const { postgresUrl, redisUrl } = svc.services;
  let cluster: Cluster | undefined;
  let schema: ReturnType<typeof privateSchema> | undefined;
  let prefix: ReturnType<typeof redisPrefix> | undefined;

  before(async () => {
    schema = privateSchema(postgresUrl);
    prefix = redisPrefix(redisUrl);
    cluster = await Cluster.start(bin, 2, { DATABASE_URL: schema.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix.prefix });
  });
  after(async () => {
    await cluster?.dispose();
    schema?.drop();
    prefix?.clear();
  });

  it('readers moved between instances, one killed mid-stream: every subscriber sees 1..N exactly once in order, and the board equals REST', { timeout: 120_000 }, async (t) => {
    const tally = new Tally();
    const seed = Number(process.env['TASKWIRE_E2E_SEED'] ?? 20261205);
    tally.runs = 1;
    const scene = await Scene.open(cluster!, seed, tally);
    try {
      await scene.run(script(prng(seed)));
      await scene.verify();
    } finally {
      scene.close();
    }
    for (const line of tally.lines()) t.diagnostic(line);
  });
});
