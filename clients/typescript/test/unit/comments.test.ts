import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isForbidden, isNotFound, type Comment } from '../../src/index.js';
import { restEnv, PROJECT, ev, fakeEnv, flush, json, socketNumber } from '../helpers/index.js';


function comment(id: number, over: Partial<Comment> = {}): Comment {
  return {
    id,
    task_id: 7,
    project_id: PROJECT,
    author_id: 1,
    body: `comment ${id}`,
    mentions: [],
    created_at: '2026-12-04T10:00:00Z',
    updated_at: '2026-12-04T10:00:00Z',
    ...over,
  };
}

describe('comments', () => {
  it('list returns the comments oldest first with X-Event-Seq and the next page', async () => {
    const { http, client } = restEnv();
    http.on(
      'GET',
      /\/api\/v1\/tasks\/7\/comments/,
      json(200, [comment(1), comment(2)], {
        'X-Event-Seq': '12',
        Link: '</api/v1/tasks/7/comments?cursor=YzI&limit=2>; rel="next"',
      }),
    );
    const page = await client.comments.list(7, { limit: 2 });
    assert.deepEqual(page, {
      comments: [comment(1), comment(2)],
      seq: 12,
      next: '/api/v1/tasks/7/comments?cursor=YzI&limit=2',
    });
    assert.equal(http.calls[0]!.query.get('limit'), '2');
    assert.equal(http.calls[0]!.headers['authorization'], 'Bearer tok');
  });

  it('list of a task without comments (a null body) is empty', async () => {
    const { http, client } = restEnv();
    http.on('GET', /\/api\/v1\/tasks\/7\/comments/, json(200, null, { 'X-Event-Seq': '3' }));
    assert.deepEqual(await client.comments.list(7), { comments: [], seq: 3 });
  });

  it('iterate follows Link rel="next" across pages', async () => {
    const { http, client } = restEnv();
    http.on('GET', /\/api\/v1\/tasks\/7\/comments/, (req) =>
      req.query.get('cursor') === 'YzI'
        ? json(200, [comment(3)], { 'X-Event-Seq': '9' })
        : json(200, [comment(1), comment(2)], { 'X-Event-Seq': '9', Link: '</api/v1/tasks/7/comments?cursor=YzI&limit=2>; rel="next"' }),
    );
    const ids: number[] = [];
    for await (const c of client.comments.iterate(7, { limit: 2 })) ids.push(c.id);
    assert.deepEqual(ids, [1, 2, 3]);
    assert.equal(http.calls.length, 2);
    assert.equal(http.calls[0]!.query.get('limit'), '2');
  });

  it('create posts {body} with an Idempotency-Key, reused by its retry after a 5xx', async () => {
    const { http, clock, client } = restEnv();
    const created = comment(5, { body: 'hi @bob', mentions: [2] });
    http.on('POST', /\/api\/v1\/tasks\/7\/comments/, json(201, created));
    http.once('POST', /\/api\/v1\/tasks\/7\/comments/, json(503, { detail: 'unavailable' }));
    const p = client.comments.create(7, { body: 'hi @bob' });
    await clock.advance(5_000);
    assert.deepEqual(await p, created);
    assert.deepEqual(
      http.calls.map((c) => [c.method, c.path, JSON.parse(c.body!), c.headers['idempotency-key']]),
      [
        ['POST', '/api/v1/tasks/7/comments', { body: 'hi @bob' }, 'key-1'],
        ['POST', '/api/v1/tasks/7/comments', { body: 'hi @bob' }, 'key-1'],
      ],
    );
    await client.comments.create(7, { body: 'again' }, { idempotencyKey: 'mine' });
    assert.equal(http.calls[2]!.headers['idempotency-key'], 'mine');
  });

  it('update patches /comments/{id}; delete answers nothing', async () => {
    const { http, client } = restEnv();
    http.on('PATCH', /\/api\/v1\/comments\/5/, (req) => json(200, comment(5, { body: (JSON.parse(req.body!) as { body: string }).body })));
    http.on('DELETE', /\/api\/v1\/comments\/5/, json(204, undefined));
    const edited = await client.comments.update(5, { body: 'edited' });
    assert.equal(edited.body, 'edited');
    assert.equal(await client.comments.delete(5), undefined);
    assert.deepEqual(
      http.calls.map((c) => `${c.method} ${c.path}`),
      ['PATCH /api/v1/comments/5', 'DELETE /api/v1/comments/5'],
    );
    assert.equal(http.calls[0]!.headers['idempotency-key'], undefined);
  });

  it('a refused edit and an unknown comment reject with TaskwireError', async () => {
    const { http, client } = restEnv();
    http.on('PATCH', /\/api\/v1\/comments\/5/, json(403, { detail: 'Only the author can edit this comment' }));
    http.on('DELETE', /\/api\/v1\/comments\/9/, json(404, { detail: 'Comment not found' }));
    await assert.rejects(client.comments.update(5, { body: 'x' }), (err: unknown) => {
      assert.ok(isForbidden(err));
      assert.equal(err.detail, 'Only the author can edit this comment');
      return true;
    });
    await assert.rejects(client.comments.delete(9), (err: unknown) => isNotFound(err));
    // Neither is retried: one call each.
    assert.equal(http.calls.length, 2);
  });

  it('comment events reach their typed handlers and the event handler, not unknown', async () => {
    const env = fakeEnv();
    const sub = env.client.project(PROJECT).subscribe({ cursor: 0 });
    const got: string[] = [];
    sub.on('comment_added', (e) => void got.push(`added ${e.data.id} mentions ${e.data.mentions.join(',')}`));
    sub.on('comment_updated', (e) => void got.push(`updated ${e.data.body}`));
    sub.on('comment_deleted', (e) => void got.push(`deleted ${e.data.id} of task ${e.data.task_id}`));
    sub.on('event', (e) => void got.push(`event ${e.event}`));
    sub.on('unknown', (e) => void got.push(`unknown ${e.event}`));
    const s = (await socketNumber(env, 1)).open().caughtUp(0);
    s.deliver(ev(1, 'comment_added', comment(4, { mentions: [2, 3] })));
    s.deliver(ev(2, 'comment_updated', comment(4, { body: 'v2' })));
    s.deliver(ev(3, 'comment_deleted', { id: 4, task_id: 7, project_id: PROJECT }));
    await flush();
    assert.deepEqual(got, [
      'event comment_added',
      'added 4 mentions 2,3',
      'event comment_updated',
      'updated v2',
      'event comment_deleted',
      'deleted 4 of task 7',
    ]);
    assert.equal(sub.lastSeq, 3);
  });
});
