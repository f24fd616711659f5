import assert from 'node:assert/strict';
import type { Board, TaskwireClient } from '../../../src/index.js';

/** Something to wait for: `done()` when it converged, `describe()` says where it is. */
export interface Goal {
  name: string;
  done(): boolean;
  describe(): string;
}

/**
 * Waits (polling real time) until every goal holds, or throws after `ms`
 * naming those that did not, with `context()` (e.g. server logs) appended.
 */
export async function converge(goals: Goal[], ms: number, context: () => string = () => ''): Promise<void> {
  const end = Date.now() + ms;
  while (!goals.every((g) => g.done())) {
    if (Date.now() > end) {
      const late = goals.filter((g) => !g.done()).map((g) => `  ${g.name}: ${g.describe()}`);
      throw new Error(`not converged after ${ms} ms:\n${late.join('\n')}\n${context()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `promise`, or an error naming `what` after `ms`: a setup step that hangs fails with a reason, not a test timeout. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts that `seqs` is exactly from..to, each once, in order; the message says what went wrong first. */
export function assertRange(name: string, seqs: readonly number[], from: number, to: number): void {
  const want = to >= from ? to - from + 1 : 0;
  for (let i = 0; i < Math.max(seqs.length, want); i++) {
    const got = seqs[i];
    if (got !== from + i) {
      const seen = new Set<number>();
      const dup = seqs.find((s) => (seen.has(s) ? true : (seen.add(s), false)));
      throw new assert.AssertionError({
        message:
          `${name}: expected seqs ${from}..${to} (${want}) exactly once in order; at index ${i} got ${String(got)}` +
          ` (${seqs.length} seen${dup === undefined ? '' : `, ${dup} twice`}; around it: ${seqs.slice(Math.max(0, i - 3), i + 4).join(',')})`,
        actual: got,
        expected: from + i,
        operator: 'strictEqual',
      });
    }
  }
}

/** The project's log over REST: its last seq, after checking it is 1..N with no gap. */
export async function logHead(client: TaskwireClient, projectId: number): Promise<number> {
  const log = await client.events.list(projectId, { since: 0 });
  assertRange('the REST log', log.events.map((e) => e.seq), 1, log.seq);
  return log.seq;
}

/** Asserts the live board equals a fresh REST read (project, members, tasks; presence excluded). */
export async function assertBoardMatchesRest(board: Board, client: TaskwireClient, projectId: number): Promise<void> {
  const [p, t] = await Promise.all([client.projects.get(projectId), client.tasks.list(projectId)]);
  assert.equal(p.seq, t.seq, 'the two REST reads should see the same seq (nothing is written now)');
  assert.equal(board.seq, p.seq, 'board seq');
  const project = (x: { id: number; name: string; description: string | null; owner_id: number } | null) =>
    x && { id: x.id, name: x.name, description: x.description, owner_id: x.owner_id };
  assert.deepEqual(project(board.project), project(p.project), 'board project');
  const members = (ms: Iterable<{ user_id: number; user: { username: string } }>) =>
    [...ms].map((m) => `${m.user_id}:${m.user.username}`).sort();
  assert.deepEqual(members(board.members.values()), members(p.members), 'board members');
  const byId = [...board.tasks.values()].sort((a, b) => a.id - b.id);
  assert.deepEqual(byId, [...t.tasks].sort((a, b) => a.id - b.id), 'board tasks');
}
