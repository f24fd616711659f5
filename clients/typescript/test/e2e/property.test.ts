import fc from 'fast-check';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '../helpers/index.js';
import { Cluster } from './support/cluster.js';
import { Scene } from './support/scene.js';
import { stepArb, Tally } from './support/steps.js';

const bin = buildServer();
const envInt = (name: string, dflt: number) => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
};
/** TASKWIRE_E2E_RUNS / TASKWIRE_E2E_SEED reproduce or widen a run (fast-check prints the seed on failure). */
const numRuns = envInt('TASKWIRE_E2E_RUNS', 25);
const seed = process.env['TASKWIRE_E2E_SEED'] ? Number(process.env['TASKWIRE_E2E_SEED']) : undefined;

describe('end to end under faults: one instance on SQLite', { skip: bin === undefined ? 'no Go toolchain to build the server' : false }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start(bin!, 1);
  });
  after(async () => {
    await cluster?.dispose();
  });

  it(
    'property: through cuts, stalls and restarts every subscriber sees 1..N exactly once in order, and the board equals REST',
    { timeout: 170_000 },
    async (t) => {
      const tally = new Tally();
      await fc.assert(
        fc.asyncProperty(fc.integer(), fc.array(stepArb, { minLength: 5, maxLength: 15 }), async (runSeed, steps) => {
          tally.runs++;
          const scene = await Scene.open(cluster, runSeed, tally);
          try {
            await scene.run(steps);
            await scene.verify();
          } finally {
            scene.close();
          }
        }),
        // Shrinking restarts servers for minutes: report the first counterexample as is (with its
        // seed), and the failure itself in the message (node:test does not print an error's cause).
        { numRuns, endOnFailure: true, includeErrorInReport: true, ...(seed === undefined ? {} : { seed }) },
      );
      for (const line of tally.lines()) t.diagnostic(line);
    },
  );
});
