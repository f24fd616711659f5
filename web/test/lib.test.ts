/**
 * The app's pure pieces, without a browser: due dates between
 * datetime-local and UTC (in a zone with summer time), @mentions as the
 * server reads them, labels, search snippets, and how comment events merge
 * with a watermarked read.
 */
process.env['TZ'] = 'America/New_York';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Comment } from '../../clients/typescript/src/index.ts';
import { commentsReducer, initialComments, type CommentEvent } from '../src/lib/comments.ts';
import { fromLocalInput, isOverdue, sameInstant, toLocalInput } from '../src/lib/dates.ts';
import { hasLabel, matchesLabels, withLabel, withoutLabel } from '../src/lib/labels.ts';
import { insertMention, matchMembers, mentionQuery, splitMentions } from '../src/lib/mentions.ts';
import { snippetParts } from '../src/lib/snippet.ts';

test('due dates: datetime-local (New York) ⇄ UTC RFC 3339, across summer time', () => {
  assert.equal(fromLocalInput('2031-03-04T10:30'), '2031-03-04T15:30:00Z');
  assert.equal(fromLocalInput('2031-03-20T10:30'), '2031-03-20T14:30:00Z');
  assert.equal(fromLocalInput('2031-03-20T10:30:15'), '2031-03-20T14:30:15Z');
  assert.equal(fromLocalInput(''), null);
  assert.equal(fromLocalInput('2031-02-31T10:00'), undefined, 'no 31 February');
  assert.equal(fromLocalInput('tomorrow'), undefined);
  assert.equal(toLocalInput('2031-03-04T15:30:00Z'), '2031-03-04T10:30');
  assert.equal(toLocalInput('2031-07-01T00:00:00+02:00'), '2031-06-30T18:00');
  assert.equal(toLocalInput('2031-03-20T14:30:15Z'), '2031-03-20T10:30:15');
  assert.equal(toLocalInput(null), '');
  for (const v of ['2031-11-02T01:30', '2031-12-31T23:59', '2032-02-29T00:00']) assert.equal(toLocalInput(fromLocalInput(v)), v);
  assert.ok(sameInstant('2031-03-04T15:30:00Z', '2031-03-04T10:30:00-05:00'));
  assert.ok(!sameInstant('2031-03-04T15:30:00Z', null));
  const now = Date.parse('2031-03-04T12:00:00Z');
  assert.equal(isOverdue({ due_at: '2031-03-04T11:59:00Z', status: 'todo' }, now), true);
  assert.equal(isOverdue({ due_at: '2031-03-04T11:59:00Z', status: 'done' }, now), false);
  assert.equal(isOverdue({ due_at: '2031-03-04T12:01:00Z', status: 'todo' }, now), false);
  assert.equal(isOverdue({ due_at: null, status: 'todo' }, now), false);
});

test('mentions: the @-word at the caret, matching members, insertion, highlighting', () => {
  assert.deepEqual(mentionQuery('Could @bo', 9), { at: 6, query: 'bo' });
  assert.deepEqual(mentionQuery('@', 1), { at: 0, query: '' });
  assert.equal(mentionQuery('mail bob@ada.com', 16), null, 'an @ inside a word is no mention');
  assert.equal(mentionQuery('@bob\nnext', 9), null);
  assert.equal(mentionQuery('no at sign', 5), null);
  const members = [
    { id: 1, username: 'bob' },
    { id: 2, username: 'Bobbie' },
    { id: 3, username: 'carol' },
    { id: 4, username: 'jimbob' },
  ];
  assert.deepEqual(matchMembers(members, 'bo').map((m) => m.id), [1, 2, 4], 'starts-with first, then contains');
  assert.deepEqual(matchMembers(members, 'BOBB').map((m) => m.id), [2]);
  assert.deepEqual(matchMembers(members, '').map((m) => m.id), [1, 2, 3, 4]);
  assert.deepEqual(insertMention('Could @bo please', 6, 9, 'bob'), { text: 'Could @bob please', caret: 11 });
  assert.deepEqual(insertMention('@ca', 0, 3, 'carol'), { text: '@carol ', caret: 7 });

  const split = splitMentions('@Bob and @bobbie, not bob@x.com or @bobby. (@carol)', [
    { id: 1, username: 'bob' },
    { id: 2, username: 'bobbie' },
    { id: 3, username: 'carol' },
  ]);
  assert.deepEqual(
    split.filter((s) => 'userId' in s),
    [
      { text: '@Bob', userId: 1 },
      { text: '@bobbie', userId: 2 },
      { text: '@carol', userId: 3 },
    ],
  );
  assert.equal(split.map((s) => s.text).join(''), '@Bob and @bobbie, not bob@x.com or @bobby. (@carol)');
  assert.deepEqual(splitMentions('plain', []), [{ text: 'plain' }]);
});

test('labels: trimmed, case-insensitive, at most 20 of 50 characters; filters need every label', () => {
  assert.deepEqual(withLabel(['bug'], '  ui '), ['bug', 'ui']);
  assert.deepEqual(withLabel(['bug'], 'BUG'), ['bug']);
  assert.throws(() => withLabel([], '   '), /Type a label/);
  assert.throws(() => withLabel([], 'x'.repeat(51)), /at most 50/);
  assert.throws(() => withLabel(Array.from({ length: 20 }, (_, i) => `l${i}`), 'one more'), /at most 20/);
  assert.deepEqual(withoutLabel(['bug', 'UI'], 'ui'), ['bug']);
  assert.ok(hasLabel(['Docs'], 'docs'));
  assert.ok(matchesLabels({ labels: ['Bug', 'docs'] }, ['bug', 'DOCS']));
  assert.ok(!matchesLabels({ labels: ['bug'] }, ['bug', 'docs']));
  assert.ok(matchesLabels({ labels: [] }, []));
});

test('search snippets: « » mark the words found', () => {
  assert.deepEqual(snippetParts('…nothing on «Safari» 17 after the «redirect».'), [
    { text: '…nothing on ', hit: false },
    { text: 'Safari', hit: true },
    { text: ' 17 after the ', hit: false },
    { text: 'redirect', hit: true },
    { text: '.', hit: false },
  ]);
  assert.deepEqual(snippetParts('no marks'), [{ text: 'no marks', hit: false }]);
  assert.deepEqual(snippetParts('«unclosed'), [{ text: '«unclosed', hit: false }]);
});

const comment = (id: number, body: string, updated = '2031-01-01T00:00:00Z'): Comment => ({
  id,
  task_id: 9,
  project_id: 1,
  author_id: 1,
  body,
  mentions: [],
  created_at: `2031-01-01T00:00:0${id}Z`,
  updated_at: updated,
});
const ev = (seq: number, e: CommentEvent['event'], c: Comment): CommentEvent =>
  e === 'comment_deleted' ? { event: e, seq, data: { id: c.id, task_id: c.task_id, project_id: c.project_id } } : { event: e, seq, data: c };

test('comments: events after the read’s seq apply once, in order, whenever they arrive', () => {
  let s = commentsReducer(initialComments, { type: 'event', event: ev(5, 'comment_added', comment(2, 'early, already in the read')) });
  s = commentsReducer(s, { type: 'event', event: ev(7, 'comment_added', comment(3, 'after the read')) });
  s = commentsReducer(s, { type: 'loaded', comments: [comment(2, 'early, already in the read'), comment(1, 'first')], seq: 6 });
  assert.deepEqual(s.comments.map((c) => c.id), [1, 2, 3], 'oldest first');
  assert.equal(s.seq, 7);
  s = commentsReducer(s, { type: 'event', event: ev(7, 'comment_added', comment(3, 'a replay')) });
  assert.equal(s.comments.find((c) => c.id === 3)?.body, 'after the read', 'an event at or below the seq is ignored');
  s = commentsReducer(s, { type: 'event', event: ev(8, 'comment_updated', comment(1, 'first, edited', '2031-01-02T00:00:00Z')) });
  // The edit's own answer, older than what the event brought, changes nothing.
  s = commentsReducer(s, { type: 'saved', comment: comment(1, 'first') });
  assert.equal(s.comments[0]?.body, 'first, edited');
  s = commentsReducer(s, { type: 'event', event: ev(9, 'comment_deleted', comment(2, '')) });
  s = commentsReducer(s, { type: 'saved', comment: comment(2, 'a late answer') });
  assert.deepEqual(s.comments.map((c) => c.id), [1, 3], 'a deleted comment does not come back');
  // A resync: events wait for the new read.
  s = commentsReducer(s, { type: 'reloading' });
  s = commentsReducer(s, { type: 'event', event: ev(12, 'comment_added', comment(4, 'after the new read')) });
  assert.deepEqual(s.comments.map((c) => c.id), [1, 3], 'held while reading');
  s = commentsReducer(s, { type: 'loaded', comments: [comment(1, 'first, edited'), comment(3, 'after the read')], seq: 11 });
  assert.deepEqual(s.comments.map((c) => c.id), [1, 3, 4]);
});
