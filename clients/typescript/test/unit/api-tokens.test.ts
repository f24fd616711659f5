import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNotFound, type ApiToken, type CreatedApiToken } from '../../src/index.js';
import { restEnv, json } from '../helpers/index.js';

const listed: ApiToken = { id: 3, name: 'ci', created_at: '2026-12-05T10:00:00Z', expires_at: null, last_used_at: null };

describe('apiTokens', () => {
  it('create posts {name, expires_at} once and returns the secret', async () => {
    const { http, client } = restEnv();
    const created: CreatedApiToken = { ...listed, token: 'tw_' + 'A'.repeat(43) };
    http.on('POST', /\/api\/v1\/users\/me\/tokens$/, json(201, created));
    const got = await client.apiTokens.create({ name: 'ci', expires_at: '2027-01-01T00:00:00Z' });
    assert.deepEqual(got, created);
    assert.deepEqual(
      http.calls.map((c) => [c.method, c.path, JSON.parse(c.body!), c.headers['idempotency-key']]),
      [['POST', '/api/v1/users/me/tokens', { name: 'ci', expires_at: '2027-01-01T00:00:00Z' }, undefined]],
    );
  });

  it('list returns the tokens (a null body is empty); revoke answers nothing', async () => {
    const { http, client } = restEnv();
    let lists = 0;
    http.on('GET', /\/api\/v1\/users\/me\/tokens$/, () => json(200, lists++ === 0 ? [listed] : null));
    http.on('DELETE', /\/api\/v1\/users\/me\/tokens\/3$/, json(204, undefined));
    assert.deepEqual(await client.apiTokens.list(), [listed]);
    assert.deepEqual(await client.apiTokens.list(), []);
    assert.equal(await client.apiTokens.revoke(3), undefined);
    assert.equal(http.calls[2]!.method, 'DELETE');
    assert.equal(http.calls[2]!.path, '/api/v1/users/me/tokens/3');
  });

  it('revoking an unknown token rejects with isNotFound', async () => {
    const { http, client } = restEnv();
    http.on('DELETE', /\/api\/v1\/users\/me\/tokens\/9$/, json(404, { detail: 'Token not found' }));
    await assert.rejects(client.apiTokens.revoke(9), (err: unknown) => isNotFound(err));
    assert.equal(http.calls.length, 1);
  });
});
