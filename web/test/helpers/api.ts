/**
 * A user on the API side of a test: @taskwire/client (from source) in
 * Node, REST only.
 */
import { createClient, type Task, type TaskwireClient } from '../../../clients/typescript/src/index.ts';

export interface ApiUser {
  id: number;
  username: string;
  password: string;
  token: string;
  client: TaskwireClient;
}

let counter = 0;

/** A unique name per call, readable in screenshots. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}${Date.now().toString(36).slice(-3)}`;
}

export function apiClient(baseUrl: string, token?: string): TaskwireClient {
  return createClient({ baseUrl, token, lifecycle: null, retry: { attempts: 1 } });
}

/** Signs a new user up and logs them in. */
export async function newUser(baseUrl: string, username = uniqueName('user')): Promise<ApiUser> {
  const password = 'correct-horse-battery';
  const client = apiClient(baseUrl);
  const user = await client.auth.signup({ email: `${username}@example.com`, username, password });
  const { access_token } = await client.auth.login({ username, password });
  return { id: user.id, username, password, token: access_token, client };
}

/** A project owned by `owner` with `members` added, and tasks titled `titles`. */
export async function newProject(
  owner: ApiUser,
  name: string,
  members: ApiUser[] = [],
  titles: string[] = [],
): Promise<{ id: number; tasks: Task[] }> {
  const p = await owner.client.projects.create({ name });
  for (const m of members) await owner.client.projects.addMember(p.id, { userId: m.id });
  const tasks: Task[] = [];
  for (const title of titles) tasks.push(await owner.client.tasks.create(p.id, { title }));
  return { id: p.id, tasks };
}

/** Retries fn while the server is down (restarts), up to `ms`. */
export async function whileUp<T>(fn: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const name = (err as { name?: string }).name;
      const status = (err as { status?: number }).status;
      const transient = name === 'TaskwireNetworkError' || status === 503 || status === 502;
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
