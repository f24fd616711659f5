import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isForbidden, type WebhookDelivery } from '../../src/index.js';
import { restEnv, PROJECT, json } from '../helpers/index.js';

const hook = {
  id: 4,
  project_id: PROJECT,
  url: 'https://hooks.example/x',
  events: ['task_created'],
  description: '',
  active: true,
  created_at: '2026-12-04T10:00:00Z',
};

function delivery(id: number): WebhookDelivery {
  return {
    id,
    event_seq: id,
    event_type: 'task_created',
    attempt: 1,
    status_code: 204,
    error: null,
    duration_ms: 3,
    created_at: '2026-12-04T10:00:00Z',
    next_attempt_at: null,
  };
}

describe('webhooks', () => {
  it('create posts the body once and returns the secret', async () => {
    const { http, client } = restEnv();
    http.on('POST', new RegExp(`/api/v1/projects/${PROJECT}/webhooks$`), json(201, { ...hook, secret: 'whsec_abc' }));
    const created = await client.webhooks.create(PROJECT, { url: hook.url, events: ['task_created'] });
    assert.equal(created.secret, 'whsec_abc');
    assert.equal(http.calls.length, 1);
    assert.deepEqual(JSON.parse(http.calls[0]!.body!), { url: hook.url, events: ['task_created'] });
  });

  it('list, update, rotateSecret, delete and redeliver use their routes', async () => {
    const { http, client } = restEnv();
    http.on('GET', new RegExp(`/api/v1/projects/${PROJECT}/webhooks`), json(200, null));
    http.on('PATCH', /\/api\/v1\/webhooks\/4$/, json(200, { ...hook, active: false }));
    http.on('POST', /\/api\/v1\/webhooks\/4\/rotate-secret$/, json(200, { secret: 'whsec_new' }));
    http.on('DELETE', /\/api\/v1\/webhooks\/4$/, json(204, undefined));
    http.on('POST', /\/api\/v1\/webhooks\/4\/deliveries\/9\/redeliver$/, json(202, undefined));
    assert.deepEqual(await client.webhooks.list(PROJECT), []);
    assert.equal((await client.webhooks.update(4, { active: false })).active, false);
    assert.equal(await client.webhooks.rotateSecret(4), 'whsec_new');
    await client.webhooks.delete(4);
    await client.webhooks.redeliver(4, 9);
    assert.deepEqual(
      http.calls.map((c) => c.method),
      ['GET', 'PATCH', 'POST', 'DELETE', 'POST'],
    );
  });

  it('deliveries follows Link rel="next", newest first', async () => {
    const { http, client } = restEnv();
    http.on('GET', /\/api\/v1\/webhooks\/4\/deliveries/, (req) =>
      req.query.get('cursor') === 'Yzg'
        ? json(200, [delivery(7)])
        : json(200, [delivery(9), delivery(8)], { Link: '</api/v1/webhooks/4/deliveries?cursor=Yzg&limit=2>; rel="next"' }),
    );
    const ids: number[] = [];
    for await (const d of client.webhooks.deliveries(4, { limit: 2 })) ids.push(d.id);
    assert.deepEqual(ids, [9, 8, 7]);
  });

  it('a member is refused with 403', async () => {
    const { http, client } = restEnv();
    http.on('GET', new RegExp(`/api/v1/projects/${PROJECT}/webhooks`), json(403, { detail: 'Only the project owner can manage its webhooks' }));
    await assert.rejects(client.webhooks.list(PROJECT), (err: unknown) => isForbidden(err));
  });
});
