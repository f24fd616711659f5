import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient } from '../../src/index.js';
import { BASE, FakeFetch, json } from '../helpers/index.js';

describe('labels and due dates', () => {
  it('projects.labels reads the counts; tasks.list repeats label once per value', async () => {
    const http = new FakeFetch();
    const client = createClient({ baseUrl: BASE, token: 'tok', fetch: http.fetch });
    http.on('GET', /\/api\/v1\/projects\/1\/labels/, json(200, [{ name: 'Bug', count: 2 }]));
    http.on('GET', /\/api\/v1\/projects\/1\/tasks/, json(200, [], { 'X-Event-Seq': '0' }));
    assert.deepEqual(await client.projects.labels(1), [{ name: 'Bug', count: 2 }]);
    await client.tasks.list(1, { label: ['bug', 'ui'], overdue: 'true', due_before: '2030-01-01T00:00:00Z' });
    const q = http.calls.find((c) => c.path === '/api/v1/projects/1/tasks')!.query;
    assert.deepEqual(q.getAll('label'), ['bug', 'ui']);
    assert.equal(q.get('overdue'), 'true');
    assert.equal(q.get('due_before'), '2030-01-01T00:00:00Z');
  });
});
