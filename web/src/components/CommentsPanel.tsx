import type { BoardMember } from '@taskwire/client';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useAction, useSession } from '../context';
import { useComments } from '../hooks/useComments';
import type { CommentFeed } from '../lib/comments';
import { messageOf, required } from '../lib/errors';
import type { MentionMember } from '../lib/mentions';
import { CommentItem } from './CommentItem';
import { ErrorMessage } from './ErrorMessage';
import { MentionTextarea } from './MentionTextarea';

/**
 * A task's comments, oldest first, live (other people's arrive, change and
 * go without a reload), and a field to add one with @-mentions of the
 * project's members.
 */
export function CommentsPanel(props: {
  taskId: number;
  ownerId: number;
  members: BoardMember[];
  names: ReadonlyMap<number, string>;
  feed: CommentFeed;
}) {
  const { taskId } = props;
  const { client, user } = useSession();
  const comments = useComments(client, taskId, props.feed);
  const [draft, setDraft] = useState('');
  const source = `comment-new-${taskId}`;
  const post = useAction(source);
  const [announcement, setAnnouncement] = useState('');
  const inputId = `comment-input-${taskId}`;

  const mentionable = useMemo<MentionMember[]>(
    () => props.members.filter((m) => m.user_id !== user.id).map((m) => ({ id: m.user_id, username: m.user.username })),
    [props.members, user.id],
  );

  // Someone else's new comment is announced (a screen reader does not see the list grow).
  const seen = useRef<Set<number> | null>(null);
  useEffect(() => {
    if (!comments.loaded) return;
    const ids = new Set(comments.comments.map((c) => c.id));
    if (seen.current) {
      const fresh = comments.comments.filter((c) => !seen.current!.has(c.id) && c.author_id !== user.id);
      const last = fresh[fresh.length - 1];
      if (last) setAnnouncement(`New comment by ${props.names.get(last.author_id) ?? 'someone'}.`);
    }
    seen.current = ids;
  }, [comments.comments, comments.loaded, user.id, props.names]);

  const submit = () => {
    if (post.busy) return;
    void post.run(async () => {
      await comments.add(required(draft, 'Write something first.'));
      setDraft('');
      setAnnouncement('Comment added.');
    });
  };

  const remove = async (id: number) => {
    await comments.remove(id);
    setAnnouncement('Comment deleted.');
    // Its buttons are gone: the focus goes to the field for a new comment.
    document.getElementById(inputId)?.focus();
  };

  const count = comments.comments.length;
  return (
    <section class="task-section comments" aria-labelledby={`task-${taskId}-comments-heading`}>
      <h3 id={`task-${taskId}-comments-heading`}>
        Comments
        {comments.loaded && (
          <span class="count">
            {count}
            <span class="visually-hidden"> {count === 1 ? 'comment' : 'comments'}</span>
          </span>
        )}
      </h3>
      {comments.error ? (
        <div class="row">
          <p class="error-message" role="alert">
            {messageOf(comments.error)}
          </p>
          <button type="button" class="small" onClick={comments.reload}>
            Try again
          </button>
        </div>
      ) : (
        <ol class="comment-list" data-testid={`comment-list-${taskId}`}>
          {!comments.loaded && <li class="empty">Loading…</li>}
          {comments.loaded && count === 0 && <li class="empty">No comments yet.</li>}
          {comments.comments.map((c) => (
            <CommentItem
              key={c.id}
              comment={c}
              names={props.names}
              members={mentionable}
              userId={user.id}
              canEdit={c.author_id === user.id}
              canDelete={c.author_id === user.id || props.ownerId === user.id}
              onEdit={comments.edit}
              onDelete={remove}
            />
          ))}
        </ol>
      )}
      <form
        class="comment-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label for={inputId}>Add a comment</label>
        <MentionTextarea
          id={inputId}
          testId={inputId}
          value={draft}
          onValue={setDraft}
          onSubmit={submit}
          members={mentionable}
          describedBy={`${inputId}-hint`}
        />
        <p class="hint" id={`${inputId}-hint`}>
          @ mentions a member. Enter posts; Shift+Enter starts a new line.
        </p>
        <ErrorMessage source={source} />
        <div class="row">
          <button type="submit" class="primary" data-testid={`comment-submit-${taskId}`} disabled={post.busy}>
            {post.busy ? 'Posting…' : 'Comment'}
          </button>
        </div>
      </form>
      <p class="visually-hidden" role="status">
        {announcement}
      </p>
    </section>
  );
}
