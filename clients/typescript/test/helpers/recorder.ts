import type {
  NotificationSubscription,
  ProjectSubscription,
  StateInfo,
  SubscriptionError,
  SubscriptionState,
} from '../../src/index.js';

/** Records what a subscription's handlers saw, for assertions. */
export class Recorder {
  readonly seqs: number[] = [];
  readonly states: SubscriptionState[] = [];
  readonly infos: StateInfo[] = [];
  readonly errors: SubscriptionError[] = [];
  readonly resyncs: number[] = [];

  project(sub: ProjectSubscription): this {
    sub.on('event', (e) => {
      this.seqs.push(e.seq);
    });
    return this.common(sub);
  }

  notifications(sub: NotificationSubscription): this {
    sub.on('notification', (n) => {
      this.seqs.push(n.seq);
    });
    return this.common(sub);
  }

  private common(sub: ProjectSubscription | NotificationSubscription): this {
    (sub as ProjectSubscription).on('state', (s, info) => {
      this.states.push(s);
      this.infos.push(info);
    });
    (sub as ProjectSubscription).on('error', (e) => {
      this.errors.push(e);
    });
    (sub as ProjectSubscription).on('resync', (seq) => {
      this.resyncs.push(seq);
    });
    return this;
  }
}
