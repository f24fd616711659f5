import type { Notification, ProjectEvent, Task } from '../../src/index.js';

export const BASE = 'http://taskwire.test';
export const PROJECT = 1;

export function task(id: number, over: Partial<Task> = {}): Task {
  return {
    id,
    title: `task ${id}`,
    description: null,
    status: 'todo',
    project_id: PROJECT,
    assignee_id: null,
    version: 1,
    created_at: '2026-12-04T10:00:00Z',
    updated_at: '2026-12-04T10:00:00Z',
    due_at: null,
    labels: [],
    ...over,
  };
}

/** A log event with seq `seq`; by default a task_updated of task `seq` (so each is distinct). */
export function ev(seq: number, event: ProjectEvent['event'] = 'task_updated', data?: unknown): ProjectEvent {
  const payload = data ?? task(seq, { title: `v${seq}` });
  return { event, data: payload, seq, project_id: PROJECT, ts: '2026-12-04T10:00:00Z', actor_id: 1 } as ProjectEvent;
}

export function evs(from: number, to: number): ProjectEvent[] {
  const out: ProjectEvent[] = [];
  for (let s = from; s <= to; s++) out.push(ev(s));
  return out;
}

export function notification(seq: number, over: Partial<Notification> = {}): Notification {
  return {
    id: 100 + seq,
    seq,
    type: 'task_assigned',
    project_id: PROJECT,
    task_id: 7,
    actor_id: 2,
    read: false,
    created_at: '2026-12-04T10:00:00Z',
    data: { title: 'x' },
    ...over,
  };
}
