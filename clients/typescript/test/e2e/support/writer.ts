import type { TaskStatus, TaskwireClient } from '../../../src/index.js';

export const mutationKinds = [
  'createTask',
  'setStatus',
  'updateTitle',
  'updateAssignee',
  'deleteTask',
  'addMember',
  'removeMember',
  'renameProject',
] as const;
export type MutationKind = (typeof mutationKinds)[number];

const statuses: TaskStatus[] = ['todo', 'in_progress', 'done'];

interface TaskModel {
  status: string;
  assignee: number | null;
}

/**
 * Issues the REST mutations of a run, as the project's owner, straight to
 * a server (never through the proxy). It keeps a small model of the
 * project (tasks, their status and assignee; members) to pick a mutation
 * the server accepts: `pick` (from the generator) chooses among what
 * exists, and a mutation with nothing to act on becomes another one.
 */
export class Writer {
  readonly tasks = new Map<number, TaskModel>();
  readonly members = new Set<number>();
  private counter = 0;

  constructor(
    private readonly client: TaskwireClient,
    readonly projectId: number,
    /** Users the owner may add and remove (and assign tasks to while members). */
    private readonly others: readonly number[],
  ) {}

  /** Applies one mutation; returns what it actually did (for failure messages). */
  async apply(kind: MutationKind, pick: number): Promise<string> {
    const n = ++this.counter;
    const taskIds = [...this.tasks.keys()];
    const taskId = taskIds.length === 0 ? undefined : taskIds[pick % taskIds.length]!;
    const outsiders = this.others.filter((u) => !this.members.has(u));
    const insiders = this.others.filter((u) => this.members.has(u));
    switch (kind) {
      case 'createTask':
        return this.create(pick, n);
      case 'setStatus': {
        if (taskId === undefined) return this.create(pick, n);
        const t = this.tasks.get(taskId)!;
        const next = statuses.filter((s) => s !== t.status)[pick % 2]!;
        await this.client.tasks.setStatus(taskId, next);
        t.status = next;
        return `setStatus ${taskId} ${next}`;
      }
      case 'updateTitle':
        if (taskId === undefined) return this.create(pick, n);
        await this.client.tasks.update(taskId, { title: `title ${n}` });
        return `updateTitle ${taskId}`;
      case 'updateAssignee': {
        if (taskId === undefined) return this.create(pick, n);
        const t = this.tasks.get(taskId)!;
        const choices = [null, ...insiders].filter((a) => a !== t.assignee);
        const assignee = choices[pick % choices.length] ?? null;
        await this.client.tasks.update(taskId, { assignee_id: assignee });
        t.assignee = assignee;
        return `updateAssignee ${taskId} ${String(assignee)}`;
      }
      case 'deleteTask':
        if (taskId === undefined) return this.create(pick, n);
        await this.client.tasks.delete(taskId);
        this.tasks.delete(taskId);
        return `deleteTask ${taskId}`;
      case 'addMember':
        if (outsiders.length === 0) return this.rename(n);
        return this.add(outsiders[pick % outsiders.length]!);
      case 'removeMember':
        if (insiders.length === 0) return this.rename(n);
        return this.remove(insiders[pick % insiders.length]!);
      case 'renameProject':
        return this.rename(n);
    }
  }

  async add(userId: number): Promise<string> {
    await this.client.projects.addMember(this.projectId, { userId });
    this.members.add(userId);
    return `addMember ${userId}`;
  }

  private async remove(userId: number): Promise<string> {
    await this.client.projects.removeMember(this.projectId, userId);
    this.members.delete(userId);
    // The server unassigns their tasks (one task_updated each).
    for (const t of this.tasks.values()) if (t.assignee === userId) t.assignee = null;
    return `removeMember ${userId}`;
  }

  private async create(pick: number, n: number): Promise<string> {
    const insiders = this.others.filter((u) => this.members.has(u));
    const assignees = [null, ...insiders];
    const assignee = assignees[pick % assignees.length] ?? null;
    const status = statuses[pick % statuses.length]!;
    const t = await this.client.tasks.create(this.projectId, { title: `task ${n}`, status, assignee_id: assignee });
    this.tasks.set(t.id, { status: t.status, assignee: t.assignee_id });
    return `createTask ${t.id} ${status} ${String(assignee)}`;
  }

  private async rename(n: number): Promise<string> {
    await this.client.projects.update(this.projectId, { name: `project ${n}` });
    return 'renameProject';
  }
}
