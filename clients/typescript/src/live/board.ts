import type { PresenceMessage, ProjectEvent } from '../events.js';
import type { EventsApi } from '../rest/events.js';
import type { ProjectsApi } from '../rest/projects.js';
import type { TasksApi } from '../rest/tasks.js';
import type { PresenceEntry } from '../types.js';
import {
  applyData,
  applyEvent,
  applyPresence,
  boardFrom,
  isTaskEvent,
  type Board,
  type Snapshot,
} from './board-state.js';
import { Emitter, type AnyHandler } from './emitter.js';
import type { StateInfo, SubscriptionState } from './loop.js';
import type { ProjectSubscription, SubscriptionError } from './subscription.js';

export type { Board, BoardMember } from './board-state.js';

export type BoardChange =
  | { type: 'snapshot' }
  | { type: 'event'; event: ProjectEvent }
  | { type: 'presence'; message?: PresenceMessage };

export interface LiveBoardEvents {
  /** After each change, one at a time (awaited); `board` is the live object, read it, do not keep it. */
  change: (board: Board, change: BoardChange) => void | Promise<void>;
  state: (state: SubscriptionState, info: StateInfo) => void;
  error: (error: unknown) => void;
}

export interface LiveBoardDeps {
  projectId: number;
  projects: ProjectsApi;
  tasks: TasksApi;
  events: EventsApi;
  /** Opens the project's subscription from a cursor. */
  subscribe: (cursor: number) => ProjectSubscription;
  /** Snapshot reads whose seqs disagree are retried this often, then reconciled from the log. */
  snapshotAttempts?: number;
}

/**
 * A project's board kept current: a REST snapshot whose project and task
 * reads agree on X-Event-Seq, then the socket from that seq, events applied
 * in order, presence from GET /presence then presence_joined/left, and a
 * fresh snapshot on resync_required.
 */
export class LiveBoard {
  readonly ready: Promise<Board>;
  subscription: ProjectSubscription | undefined;
  private current: Board | undefined;
  private readonly emitter = new Emitter();
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  /** Presence messages seen while a GET /presence is in flight, re-applied on top of its answer. */
  private presenceLog: PresenceMessage[] | null = null;

  constructor(private readonly deps: LiveBoardDeps) {
    this.ready = this.start();
    this.ready.catch(() => {});
  }

  /** The board; throws before `ready`. */
  get board(): Board {
    if (!this.current) throw new Error('the board is not loaded yet: await ready');
    return this.current;
  }

  get state(): SubscriptionState {
    if (this.closed) return 'closed';
    return this.subscription?.state ?? 'connecting';
  }

  on<K extends keyof LiveBoardEvents>(type: K, handler: LiveBoardEvents[K]): () => void {
    return this.emitter.on(type, handler as AnyHandler);
  }

  close(): void {
    this.closed = true;
    this.subscription?.close();
  }

  private async start(): Promise<Board> {
    const [snap, presence] = await Promise.all([this.snapshot(), this.fetchPresence()]);
    if (this.closed) throw new Error('the board was closed while loading');
    this.current = boardFrom(snap, presence);
    await this.notify({ type: 'snapshot' });
    const sub = this.deps.subscribe(snap.seq);
    this.subscription = sub;
    sub.on('event', (ev) => this.onEvent(ev));
    sub.on('presence', (msg) => this.onPresence(msg));
    sub.on('resync', () => this.reload());
    sub.on('state', (state, info) => {
      // Presence is not in the log: after each (re)connection read it again.
      if (state === 'live') void this.refreshPresence();
      this.emitter.emitSync('state', state, info);
    });
    sub.on('error', (err: SubscriptionError) => this.emitter.emitSync('error', err));
    return this.current;
  }

  private async onEvent(ev: ProjectEvent): Promise<void> {
    if (this.current && applyEvent(this.current, ev)) await this.notify({ type: 'event', event: ev });
  }

  private async onPresence(msg: PresenceMessage): Promise<void> {
    this.presenceLog?.push(msg);
    if (!this.current) return;
    applyPresence(this.current.presence, msg);
    await this.notify({ type: 'presence', message: msg });
  }

  /** resync_required: load a new snapshot; its seq tells the subscription where the board now is. */
  private async reload(): Promise<number> {
    const snap = await this.snapshot();
    this.current = boardFrom(snap, this.current?.presence ?? new Map());
    await this.notify({ type: 'snapshot' });
    return snap.seq;
  }

  private async refreshPresence(): Promise<void> {
    try {
      const presence = await this.fetchPresence();
      if (!this.current || this.closed) return;
      this.current.presence = presence;
      await this.notify({ type: 'presence' });
    } catch (err) {
      this.emitter.emitSync('error', err);
    }
  }

  private async fetchPresence(): Promise<Map<number, PresenceEntry>> {
    this.presenceLog = [];
    try {
      const entries = await this.deps.projects.presence(this.deps.projectId);
      const map = new Map(entries.map((e) => [e.user_id, e]));
      for (const msg of this.presenceLog) applyPresence(map, msg);
      return map;
    } finally {
      this.presenceLog = null;
    }
  }

  /** Project and tasks at one seq: retried when the reads disagree, then reconciled from the log. */
  private async snapshot(): Promise<Snapshot> {
    const { projectId, projects, tasks } = this.deps;
    const attempts = Math.max(1, this.deps.snapshotAttempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      const [p, t] = await Promise.all([projects.get(projectId), tasks.list(projectId)]);
      const snap = { project: p.project, members: p.members, tasks: t.tasks, seq: p.seq };
      if (p.seq === t.seq) return snap;
      if (attempt >= attempts) return this.reconcile(snap, p.seq, t.seq);
    }
  }

  /**
   * Writes kept landing between the two reads: bring the older read up to
   * the newer one's seq with the events in between (only those of its kind).
   */
  private async reconcile(snap: Snapshot, projectSeq: number, taskSeq: number): Promise<Snapshot> {
    const lo = Math.min(projectSeq, taskSeq);
    const hi = Math.max(projectSeq, taskSeq);
    const patchTasks = taskSeq < projectSeq;
    const board = boardFrom(snap, new Map());
    for await (const ev of this.deps.events.iterate(this.deps.projectId, { since: lo, limit: 500 })) {
      if (ev.seq > hi) break;
      if (isTaskEvent(ev) === patchTasks) applyData(board, ev);
    }
    const tasks = [...board.tasks.values()].sort((a, b) => a.id - b.id);
    return { project: board.project, members: [...board.members.values()], tasks, seq: hi };
  }

  /** Runs change handlers one at a time, in order, each awaited. */
  private notify(change: BoardChange): Promise<void> {
    const run = async () => {
      for (const h of this.emitter.list('change')) {
        if (this.closed || !this.current) return;
        try {
          await h(this.current, change);
        } catch (err) {
          this.emitter.emitSync('error', err);
        }
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }
}
