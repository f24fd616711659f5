import assert from 'node:assert/strict';
import type { LiveBoard, NotificationSubscription, ProjectSubscription, TaskwireClient } from '../../../src/index.js';
import { directClient, newActor, proxiedClient, type Actor } from './actors.js';
import { assertBoardMatchesRest, assertRange, converge, logHead, within, type Goal } from './checks.js';
import type { Cluster } from './cluster.js';
import { BoardObserver, prng, StreamObserver } from './observers.js';
import { Executor, type Step, type Tally } from './steps.js';
import { Writer } from './writer.js';

/** How long a run may take to converge after its last step (generous: never the expected case). */
const convergeMs = 45_000;
/** How long a run's streams may take to start (no fault is injected yet). */
const setupMs = 20_000;

/**
 * One run's world: a project owned by alice, written to by her direct
 * client; through the proxy, two subscribers of the project (one from
 * cursor 0, one adopting the stream at its first caught_up), a live board,
 * and bob's notification stream (bob is added to the project at once and
 * is the usual assignee; carol comes and goes).
 */
export class Scene {
  readonly executor: Executor;
  private constructor(
    private readonly cluster: Cluster,
    private readonly tally: Tally,
    private readonly writerClient: TaskwireClient,
    private readonly bobDirect: TaskwireClient,
    readonly writer: Writer,
    private readonly subs: { sub: ProjectSubscription; obs: StreamObserver }[],
    private readonly inbox: { sub: NotificationSubscription; obs: StreamObserver },
    private readonly board: { board: LiveBoard; obs: BoardObserver },
  ) {
    this.executor = new Executor(cluster, writer, tally, async () => void (await this.sync()));
  }

  static async open(cluster: Cluster, seed: number, tally: Tally): Promise<Scene> {
    const random = prng(seed);
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => newActor(cluster, n))) as [Actor, Actor, Actor];
    const writerClient = directClient(cluster, alice);
    const project = await writerClient.projects.create({ name: `e2e ${seed}` });
    const readers = proxiedClient(cluster, alice);
    const bobReader = proxiedClient(cluster, bob);

    const inboxObs = new StreamObserver('notifications(bob)', prng(seed ^ 0x5bd1e995));
    const inbox = bobReader.notifications.subscribe({ cursor: 0, onNotification: inboxObs.handle });
    inboxObs.watch(inbox);
    const subs = [
      { name: 'subscriber A (cursor 0)', cursor: 0 as number | undefined },
      { name: 'subscriber B (no cursor)', cursor: undefined },
    ].map(({ name, cursor }) => {
      const obs = new StreamObserver(name, prng(Math.floor(random() * 2 ** 32)));
      const sub = readers.project(project.id).subscribe({ cursor, onEvent: obs.handle });
      return { sub, obs: obs.watch(sub) };
    });
    const board = readers.project(project.id).live();
    const scene = new Scene(cluster, tally, writerClient, directClient(cluster, bob), new Writer(writerClient, project.id, [bob.id, carol.id]), subs, {
      sub: inbox,
      obs: inboxObs,
    }, { board, obs: new BoardObserver('live board') });
    try {
      await within(scene.board.obs.watch(board), setupMs, 'the live board’s snapshot');
      // B adopts the stream at its first caught_up: the project must still be at seq 0 then.
      const caughtUp = [...subs.map((s) => s.sub.caughtUp), inbox.caughtUp, board.subscription!.caughtUp];
      await within(Promise.all(caughtUp), setupMs, 'the first caught_up of every stream');
      await scene.writer.add(bob.id);
      return scene;
    } catch (err) {
      scene.close();
      throw err;
    }
  }

  async run(steps: readonly Step[]): Promise<void> {
    try {
      for (const s of steps) await this.executor.step(s);
      await this.executor.settle();
    } catch (err) {
      this.executor.abort();
      throw err;
    }
  }

  /** Waits until every stream is live at the current head; returns the heads (N of the project, M of bob's notifications). */
  async sync(): Promise<{ n: number; m: number }> {
    const n = await logHead(this.writerClient, this.writer.projectId);
    const m = (await this.bobDirect.notifications.list({ limit: 1 })).seq;
    await converge(this.goals(n, m), convergeMs, () => `steps: ${this.executor.log.join('; ')}\n${this.cluster.logs()}`);
    return { n, m };
  }

  /** Waits for every stream to be live at the final seq, then checks what each saw. */
  async verify(): Promise<void> {
    const { n, m } = await this.sync();
    for (const { obs } of this.subs) {
      assertRange(obs.name, obs.seqs, 1, n);
      this.tally.checked.project += obs.seqs.length;
    }
    assertRange(this.inbox.obs.name, this.inbox.obs.seqs, 1, m);
    this.tally.checked.notifications += m;
    assertRange(this.board.obs.name, this.board.obs.seqs, this.board.obs.startSeq + 1, n);
    this.tally.checked.board += this.board.obs.seqs.length;
    await assertBoardMatchesRest(this.board.board.board, this.writerClient, this.writer.projectId);

    for (const obs of [...this.subs.map((s) => s.obs), this.inbox.obs, this.board.obs]) {
      assert.deepEqual(obs.health.unexpected.map((e) => e.message), [], `${obs.name}: unexpected errors`);
      assert.deepEqual(obs.health.terminal, [], `${obs.name}: terminal states`);
      this.tally.drops += obs.health.drops;
      this.tally.watchdog += obs.health.watchdog;
    }
  }

  private goals(n: number, m: number): Goal[] {
    return [
      ...this.subs.map(({ sub, obs }) => ({
        name: obs.name,
        done: () => sub.state === 'live' && sub.lastSeq === n,
        describe: () => `${sub.state}, lastSeq ${String(sub.lastSeq)} of ${n}, ${obs.seqs.length} delivered, last error: ${sub.lastError?.message ?? '-'}`,
      })),
      {
        name: this.inbox.obs.name,
        done: () => this.inbox.sub.state === 'live' && this.inbox.sub.lastSeq === m,
        describe: () => `${this.inbox.sub.state}, lastSeq ${String(this.inbox.sub.lastSeq)} of ${m}`,
      },
      {
        name: this.board.obs.name,
        done: () => this.board.board.state === 'live' && this.board.board.board.seq === n,
        describe: () => `${this.board.board.state}, seq ${this.board.board.board.seq} of ${n}`,
      },
    ];
  }

  /**
   * Closes every stream, then cuts every proxied connection: the next run
   * starts on a fresh network, as a new application would. Without the cut,
   * a connection black-holed in this run would stay in Node's fetch pool,
   * which every client of the process shares, and the next run's first
   * snapshot read could be sent on it and never answered (REST calls have
   * no timeout; see README, "How it is tested").
   */
  close(): void {
    for (const { sub, obs } of this.subs) {
      sub.close();
      obs.closed();
    }
    this.inbox.sub.close();
    this.inbox.obs.closed();
    this.board.board.close();
    this.board.obs.closed();
    this.cluster.proxy.cut('rst');
  }
}
