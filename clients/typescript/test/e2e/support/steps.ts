import fc from 'fast-check';
import type { Direction, StopSignal } from '../../helpers/index.js';
import { HEARTBEAT_MS, type Cluster } from './cluster.js';
import { mutationKinds, type MutationKind, type Writer } from './writer.js';

/** One step of a run. Faults act on the proxy or the servers; mutations go straight to a server. */
export type Step =
  | { kind: 'mutate'; op: MutationKind; pick: number }
  | { kind: 'cut'; how: 'rst' | 'fin' }
  /** Stops forwarding for `ms` (> 2 heartbeats), while the next steps go on. */
  | { kind: 'stall'; dir: Direction; ms: number }
  /** Every open connection goes silent for good (new ones pass): a half-open link that never heals. */
  | { kind: 'blackhole' }
  /** Waits for a running stall to end. */
  | { kind: 'settle' }
  /** Waits until every stream is live and caught up with what was written so far. */
  | { kind: 'sync' }
  /** Stop the proxy's current instance and start it again (same port, same database). */
  | { kind: 'restart'; signal: StopSignal }
  | { kind: 'pause'; ms: number }
  // Several instances only:
  /** New proxied connections go to instance `to`; with `cut`, the open ones are cut too. */
  | { kind: 'route'; to: number; cut?: 'rst' | 'fin' }
  | { kind: 'writeVia'; instance: number }
  /** SIGKILL an instance (it stays down until `start`). */
  | { kind: 'kill'; instance: number }
  | { kind: 'start'; instance: number };

/** Counts of what the runs did, reported at the end. */
export class Tally {
  runs = 0;
  steps = 0;
  mutations = 0;
  readonly faults = new Map<string, number>();
  /** Seqs compared against the expected range, per stream kind. */
  readonly checked = { project: 0, board: 0, notifications: 0 };
  watchdog = 0;
  drops = 0;

  fault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  lines(): string[] {
    const faults = [...this.faults].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`);
    const total = [...this.faults.values()].reduce((a, b) => a + b, 0);
    const events = this.checked.project + this.checked.board + this.checked.notifications;
    return [
      `runs=${this.runs} steps=${this.steps} mutations=${this.mutations}`,
      `faults=${total}: ${faults.join(' ')}`,
      `events checked=${events}: project subscribers=${this.checked.project} board=${this.checked.board} notifications=${this.checked.notifications}`,
      `reconnections seen by subscribers: ${this.drops} (heartbeat watchdog: ${this.watchdog})`,
    ];
  }
}

/** Longer than two heartbeats, so the watchdog must notice. */
const stallMs = fc.integer({ min: 2 * HEARTBEAT_MS + 150, max: 4 * HEARTBEAT_MS });

/** Steps of the single-instance property: mutations mixed with every kind of fault. */
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('mutate' as const), op: fc.constantFrom(...mutationKinds), pick: fc.nat(999) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), how: fc.constantFrom('rst' as const, 'fin' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('stall' as const),
      dir: fc.constantFrom<Direction>('both', 'both', 'down', 'up'),
      ms: stallMs,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'blackhole' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), signal: fc.constant<StopSignal>('SIGTERM') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), signal: fc.constant<StopSignal>('SIGKILL') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 20, max: 400 }) }) },
);

/**
 * Runs steps against a cluster. A stall lasts while the following steps
 * run (writes land while the readers' links are silent); `settle()` waits
 * for it to end so the run can converge.
 */
export class Executor {
  private stallTimer: NodeJS.Timeout | undefined;
  private stallEnded: Promise<void> = Promise.resolve();
  private endStall: (() => void) | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly writer: Writer,
    private readonly tally: Tally,
    /** Waits until every stream is live at the current head (the `sync` step). */
    private readonly sync: () => Promise<void>,
    /** What was done, for failure messages. */
    readonly log: string[] = [],
  ) {}

  async step(s: Step): Promise<void> {
    this.tally.steps++;
    const { proxy } = this.cluster;
    switch (s.kind) {
      case 'mutate':
        this.tally.mutations++;
        this.log.push(await this.writer.apply(s.op, s.pick));
        return;
      case 'cut':
        this.tally.fault(`cut-${s.how}`);
        this.log.push(`cut ${s.how} (${proxy.cut(s.how)} connections)`);
        return;
      case 'stall':
        this.tally.fault(`stall-${s.dir}`);
        this.log.push(`stall ${s.dir} ${s.ms} ms`);
        return this.stall(s.dir, s.ms);
      case 'blackhole':
        this.tally.fault('blackhole');
        this.log.push(`blackhole (${proxy.blackhole()} connections)`);
        return;
      case 'settle':
        this.log.push('settle');
        return this.settle();
      case 'sync':
        this.log.push('sync');
        return this.sync();
      case 'restart':
        this.tally.fault(s.signal === 'SIGTERM' ? 'restart-sigterm' : 'restart-sigkill');
        this.log.push(`restart ${s.signal} instance ${this.cluster.target}`);
        return this.cluster.instance(this.cluster.target).restart(s.signal);
      case 'pause':
        this.log.push(`pause ${s.ms} ms`);
        return new Promise((r) => setTimeout(r, s.ms));
      case 'route':
        this.tally.fault(s.cut ? `route+cut-${s.cut}` : 'route');
        this.cluster.route(s.to);
        this.log.push(`route to ${s.to}${s.cut ? ` and cut ${s.cut} (${proxy.cut(s.cut)} connections)` : ''}`);
        return;
      case 'writeVia':
        this.cluster.writer = s.instance;
        this.log.push(`write via ${s.instance}`);
        return;
      case 'kill':
        this.tally.fault('kill');
        this.log.push(`kill instance ${s.instance}`);
        return this.cluster.instance(s.instance).stop('SIGKILL');
      case 'start':
        this.log.push(`start instance ${s.instance}`);
        return this.cluster.instance(s.instance).restart();
    }
  }

  /** Waits for a running stall to end (the proxy passes again). */
  async settle(): Promise<void> {
    await this.stallEnded;
  }

  /** Ends a stall now (cleanup after a failure). */
  abort(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.cluster.proxy.pass();
    this.endStall?.();
  }

  private stall(dir: Direction, ms: number): void {
    const { proxy } = this.cluster;
    proxy.stall(dir);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    else this.stallEnded = new Promise<void>((resolve) => (this.endStall = resolve));
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      proxy.pass();
      this.endStall?.();
    }, ms);
  }
}
