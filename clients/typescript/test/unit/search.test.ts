import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, isTaskwireError } from '../../src/index.js';
import { BASE, FakeFetch, json, task } from '../helpers/index.js';

describe('search', () => {
  it('sends q and limit, and reads the results best first', async () => {
    const http = new FakeFetch();
    const client = createClient({ baseUrl: BASE, token: 'tok', fetch: http.fetch });
    const hits = [
      { task: task(7, { title: 'Naïve plan' }), project: { id: 1, name: 'Launch' }, snippet: '«Naïve» plan' },
      { task: task(3), project: { id: 2, name: 'Ops' }, snippet: 'the «naive» approach' },
    ];
    http.on('GET', /\/api\/v1\/search/, json(200, hits));
    assert.deepEqual(await client.search('naive "plan"', { limit: 5 }), hits);
    const q = http.calls.at(-1)!.query;
    assert.equal(q.get('q'), 'naive "plan"');
    assert.equal(q.get('limit'), '5');
    assert.equal(http.calls.at(-1)!.headers['authorization'], 'Bearer tok');

    await client.search('東京');
    assert.equal(http.calls.at(-1)!.query.get('q'), '東京');
    assert.equal(http.calls.at(-1)!.query.has('limit'), false);
  });

  it('reads null as no results', async () => {
    const http = new FakeFetch();
    const client = createClient({ baseUrl: BASE, token: 'tok', fetch: http.fetch });
    http.on('GET', /\/api\/v1\/search/, json(200, null));
    assert.deepEqual(await client.search('nothing'), []);
  });

  it('a query without a word is a 422 on q', async () => {
    const http = new FakeFetch();
    const client = createClient({ baseUrl: BASE, token: 'tok', fetch: http.fetch });
    const detail = [{ loc: ['query', 'q'], msg: 'Query must contain at least one word (letters or digits)', type: 'value_error' }];
    http.on('GET', /\/api\/v1\/search/, json(422, { detail }));
    await assert.rejects(client.search('*'), (err: unknown) => {
      assert.ok(isTaskwireError(err));
      assert.equal(err.status, 422);
      assert.deepEqual(err.fieldErrors, detail);
      return true;
    });
  });
});
