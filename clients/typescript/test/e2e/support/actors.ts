import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createClient, type FetchLike, type LiveOptions, type TaskwireClient } from '../../../src/index.js';
import { HEARTBEAT_MS, type Cluster } from './cluster.js';

export interface Actor {
  id: number;
  username: string;
  token: string;
}

/**
 * The readers' connection policy: the watchdog matches the servers'
 * heartbeat, and backoff is short so a run converges in seconds.
 */
export const readerLive: Partial<LiveOptions> = {
  heartbeatMs: HEARTBEAT_MS,
  baseMs: 50,
  capMs: 1_000,
  minMs: 20,
  stableMs: 2_000,
  connectTimeoutMs: 2_000,
};

/** A fetch that sends every request to the cluster's current writer instance, whatever the URL's origin. */
function writerFetch(cluster: Cluster): FetchLike {
  return (url, init) => {
    const u = new URL(url);
    const to = new URL(cluster.writerUrl);
    u.protocol = to.protocol;
    u.host = to.host;
    return fetch(u, init);
  };
}

/** Signs a new user up on the writer's instance and logs them in. */
export async function newActor(cluster: Cluster, name: string): Promise<Actor> {
  const username = `${name}_${randomBytes(5).toString('hex')}`;
  const password = `pw-${username}`;
  const anon = createClient({ baseUrl: 'http://writer.invalid', fetch: writerFetch(cluster) });
  const me = await anon.auth.signup({ email: `${username}@example.com`, username, password });
  const { access_token } = await anon.auth.login({ username, password }, { remember: false });
  return { id: me.id, username, token: access_token };
}

/** A client that talks to the writer's instance directly (never through the proxy). */
export function directClient(cluster: Cluster, actor: Actor): TaskwireClient {
  return createClient({ baseUrl: 'http://writer.invalid', fetch: writerFetch(cluster), token: actor.token });
}

/** A client whose REST calls and sockets all go through the fault proxy. */
export function proxiedClient(cluster: Cluster, actor: Actor, live: Partial<LiveOptions> = readerLive): TaskwireClient {
  return createClient({ baseUrl: cluster.proxy.url, WebSocket, token: actor.token, live, lifecycle: null });
}
