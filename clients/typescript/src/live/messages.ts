import { projectEventTypes } from '../events.js';

/**
 * A socket message, sorted by what the sequencer must do with it.
 * `names` are the handler lists an event is dispatched to.
 */
export type Incoming =
  | { kind: 'event'; seq: number; msg: unknown; names: string[] }
  | { kind: 'presence'; msg: unknown }
  | { kind: 'caught_up'; seq: number }
  | { kind: 'heartbeat'; seq: number }
  | { kind: 'resync'; seq: number };

const known = new Set<string>(projectEventTypes);

function isSeq(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Parses one text frame. Returns undefined for what the client ignores
 * (a message of no known shape); throws on text that is not JSON.
 */
export function classify(text: string, stream: 'project' | 'notifications'): Incoming | undefined {
  const msg: unknown = JSON.parse(text);
  if (typeof msg !== 'object' || msg === null) return undefined;
  const { event, seq } = msg as { event?: unknown; seq?: unknown };
  if (typeof event !== 'string') return undefined;
  switch (event) {
    case 'caught_up':
      return isSeq(seq) ? { kind: 'caught_up', seq } : undefined;
    case 'heartbeat':
      return isSeq(seq) ? { kind: 'heartbeat', seq } : undefined;
    case 'resync_required':
      return isSeq(seq) ? { kind: 'resync', seq } : undefined;
    case 'presence_joined':
    case 'presence_left':
      return stream === 'project' ? { kind: 'presence', msg } : undefined;
  }
  if (!isSeq(seq) || seq < 1) return undefined;
  if (stream === 'notifications') {
    // Handlers get the notification itself; its seq is the user's notification seq.
    const data = (msg as { data?: unknown }).data;
    return event === 'notification' ? { kind: 'event', seq, msg: data, names: ['notification'] } : undefined;
  }
  // A type this client does not know still takes its place in the sequence.
  return { kind: 'event', seq, msg, names: known.has(event) ? ['event', event] : ['unknown'] };
}

/** Turns REST log events into sequencer input, as if they came on the socket. */
export function fromLog(events: readonly { event: string; seq: number }[]): Incoming[] {
  return events.map((ev) => ({
    kind: 'event' as const,
    seq: ev.seq,
    msg: ev,
    names: known.has(ev.event) ? ['event', ev.event] : ['unknown'],
  }));
}
