import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isForbidden, isGone, isNotFound, type Invitation } from '../../src/index.js';
import { restEnv, PROJECT, json } from '../helpers/index.js';

function invitation(id: number, over: Partial<Invitation> = {}): Invitation {
  return {
    id,
    project_id: PROJECT,
    email: `invitee${id}@example.com`,
    created_at: '2026-12-04T10:00:00Z',
    expires_at: '2026-12-11T10:00:00Z',
    accepted_at: null,
    accepted_by: null,
    ...over,
  };
}

describe('invitations', () => {
  it('create posts {email} to the project and returns the invitation', async () => {
    const { http, client } = restEnv();
    http.on('POST', new RegExp(`/api/v1/projects/${PROJECT}/invitations$`), json(201, invitation(1)));
    assert.deepEqual(await client.invitations.create(PROJECT, 'invitee1@example.com'), invitation(1));
    assert.deepEqual(JSON.parse(http.calls[0]!.body!), { email: 'invitee1@example.com' });
    assert.equal(http.calls[0]!.headers['authorization'], 'Bearer tok');
  });

  it('list returns the invitations; a null body is empty', async () => {
    const { http, client } = restEnv();
    http.on('GET', new RegExp(`/api/v1/projects/${PROJECT}/invitations$`), json(200, [invitation(1), invitation(2, { accepted_by: 4 })]));
    assert.deepEqual(await client.invitations.list(PROJECT), [invitation(1), invitation(2, { accepted_by: 4 })]);
    http.on('GET', new RegExp(`/api/v1/projects/${PROJECT}/invitations$`), json(200, null));
    assert.deepEqual(await client.invitations.list(PROJECT), []);
  });

  it('revoke deletes the invitation; an unknown one is isNotFound', async () => {
    const { http, client } = restEnv();
    http.on('DELETE', /\/api\/v1\/invitations\/3$/, json(204, undefined));
    http.on('DELETE', /\/api\/v1\/invitations\/9$/, json(404, { detail: 'Invitation not found' }));
    await client.invitations.revoke(3);
    await assert.rejects(client.invitations.revoke(9), (err: unknown) => isNotFound(err));
  });

  it('accept posts {token} and returns the project; 403 and 410 keep their messages', async () => {
    const { http, client } = restEnv();
    const project = { id: PROJECT, name: 'P', description: null, owner_id: 1 };
    http.on('POST', /\/api\/v1\/invitations\/accept$/, (req) => {
      const { token } = JSON.parse(req.body!) as { token: string };
      if (token === 'good') return json(200, project);
      if (token === 'other') return json(403, { detail: 'This invitation is for another email address' });
      return json(410, { detail: 'Invitation is no longer valid' });
    });
    assert.deepEqual(await client.invitations.accept('good'), project);
    await assert.rejects(client.invitations.accept('other'), (err: unknown) => {
      assert.ok(isForbidden(err));
      assert.equal(err.detail, 'This invitation is for another email address');
      return true;
    });
    await assert.rejects(client.invitations.accept('used'), (err: unknown) => {
      assert.ok(isGone(err));
      assert.equal(err.detail, 'Invitation is no longer valid');
      return true;
    });
    // Accepting is not retried: one call each.
    assert.equal(http.calls.length, 3);
  });
});
