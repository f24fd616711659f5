/**
 * Tails a project's events in a terminal, resuming across server restarts:
 *
 *   npm run build:all
 *   node dist/examples/tail.js --url http://127.0.0.1:8080 --username ada --password ... --project 1
 *
 * Prints every event once, in order, and each state change. Ctrl-C stops.
 * `--since N` starts after seq N (default: from now).
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createClient, isTaskwireError, type ProjectEvent } from '../src/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    username: { type: 'string' },
    password: { type: 'string' },
    project: { type: 'string' },
    since: { type: 'string' },
  },
});

if (!values.username || !values.password || !values.project) {
  console.error('usage: node dist/examples/tail.js --url URL --username NAME --password PW --project ID [--since SEQ]');
  process.exit(2);
}
const username = values.username;
const password = values.password;
const projectId = Number(values.project);

const client = createClient({
  baseUrl: values.url,
  WebSocket,
  // Asked at start and again whenever the token expires (REST 401, socket 4401).
  getToken: async () => (await login()).access_token,
});

async function login() {
  const anon = createClient({ baseUrl: values.url });
  return anon.auth.login({ username, password }, { remember: false });
}

function describe(ev: ProjectEvent): string {
  switch (ev.event) {
    case 'task_created':
    case 'status_changed':
    case 'task_updated':
      return `task ${ev.data.id} "${ev.data.title}" ${ev.data.status} v${ev.data.version}`;
    case 'task_deleted':
      return `task ${ev.data.id}`;
    case 'member_added':
      return `user ${ev.data.user.username} (${ev.data.user_id})`;
    case 'member_removed':
      return `user ${ev.data.user_id}`;
    case 'project_updated':
      return `"${ev.data.name}"`;
    case 'project_deleted':
      return `project ${ev.data.id}`;
    case 'comment_added':
    case 'comment_updated':
      return `comment ${ev.data.id} on task ${ev.data.task_id}: "${ev.data.body}"`;
    case 'comment_deleted':
      return `comment ${ev.data.id} on task ${ev.data.task_id}`;
  }
}

const time = () => new Date().toISOString().slice(11, 23);

const sub = client.project(projectId).subscribe({
  ...(values.since === undefined ? {} : { cursor: Number(values.since) }),
  onEvent: (ev) => console.log(`${time()} #${ev.seq} ${ev.event} ${describe(ev)}`),
  onResync: (seq) => console.log(`${time()} resync: the log no longer has what we missed; continuing from #${seq}`),
});
sub.on('presence', (m) => console.log(`${time()} ${m.event === 'presence_joined' ? 'joined' : 'left'}: ${m.data.username}`));
sub.on('state', (state, info) => {
  const why = [info.code && `code ${info.code}`, info.status && `HTTP ${info.status}`, info.reason, info.delayMs !== undefined && `retry in ${info.delayMs} ms`]
    .filter(Boolean)
    .join(', ');
  console.log(`${time()} [${state}]${why ? ` ${why}` : ''}${sub.lastSeq === undefined ? '' : ` (last #${sub.lastSeq})`}`);
  if (state === 'revoked' || state === 'closed') process.exitCode = state === 'revoked' ? 3 : process.exitCode;
});
sub.on('error', (err) => {
  const cause = err.cause;
  console.error(`${time()} ${err.kind}: ${isTaskwireError(cause) ? `${cause.status} ${cause.detail}` : err.message}`);
});

process.on('SIGINT', () => {
  console.log(`\nstopped at #${sub.lastSeq ?? '-'} (resume with --since ${sub.lastSeq ?? 0})`);
  sub.close();
});
