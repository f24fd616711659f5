import type { Comment } from '@taskwire/client';
import { useMemo, useState } from 'preact/hooks';
import { useAction } from '../context';
import { dateTimeFormat } from '../lib/dates';
import { required } from '../lib/errors';
import { splitMentions, type MentionMember } from '../lib/mentions';
import { ErrorMessage } from './ErrorMessage';
import { MentionTextarea } from './MentionTextarea';

/** A comment's text with its mentions highlighted (the viewer's own more strongly). */
export function CommentBody(props: { body: string; mentions: readonly number[]; names: ReadonlyMap<number, string>; userId: number }) {
  const segments = useMemo(() => {
    const mentioned = props.mentions.flatMap((id) => {
      const username = props.names.get(id);
      return username === undefined ? [] : [{ id, username }];
    });
    return splitMentions(props.body, mentioned);
  }, [props.body, props.mentions, props.names]);
  return (
    <p class="comment-body">
      {segments.map((s, i) =>
        'userId' in s ? (
          <mark key={i} class={`mention${s.userId === props.userId ? ' me' : ''}`}>
            {s.text}
          </mark>
        ) : (
          s.text
        ),
      )}
    </p>
  );
}

interface Props {
  comment: Comment;
  names: ReadonlyMap<number, string>;
  members: readonly MentionMember[];
  userId: number;
  canEdit: boolean;
  canDelete: boolean;
  onEdit(id: number, body: string): Promise<unknown>;
  onDelete(id: number): Promise<unknown>;
}

/** One comment: author, time, text; its author edits it in place, its author or the project's owner deletes it. */
export function CommentItem(props: Props) {
  const c = props.comment;
  const [editing, setEditing] = useState<string | null>(null);
  const source = `comment-${c.id}`;
  const save = useAction(source);
  const del = useAction(source);
  const author = props.names.get(c.author_id) ?? `user ${c.author_id}`;
  const edited = c.updated_at !== c.created_at;

  const submit = () => {
    if (editing === null) return;
    void save.run(async () => {
      const body = required(editing, 'A comment cannot be empty: delete it instead.');
      if (body !== c.body) await props.onEdit(c.id, editing);
      setEditing(null);
    });
  };

  return (
    <li class="comment" id={`comment-${c.id}`} data-testid={`comment-${c.id}`}>
      <div class="comment-head">
        <span id={`comment-${c.id}-by`} class="comment-author">
          {author}
          {c.author_id === props.userId && <span class="muted"> (you)</span>}
        </span>
        <time dateTime={c.created_at}>{dateTimeFormat.format(new Date(c.created_at))}</time>
        {edited && <span class="muted">· edited</span>}
      </div>
      {editing === null ? (
        <CommentBody body={c.body} mentions={c.mentions ?? []} names={props.names} userId={props.userId} />
      ) : (
        <form
          class="comment-edit"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <label class="visually-hidden" for={`comment-edit-input-${c.id}`}>
            Edit your comment
          </label>
          <MentionTextarea
            id={`comment-edit-input-${c.id}`}
            testId={`comment-edit-input-${c.id}`}
            value={editing}
            onValue={setEditing}
            onSubmit={submit}
            members={props.members}
            disabled={save.busy}
          />
          <div class="row">
            <button type="submit" class="small primary" data-testid={`comment-save-${c.id}`} disabled={save.busy}>
              Save
            </button>
            <button type="button" class="small" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {editing === null && (props.canEdit || props.canDelete) && (
        <div class="comment-actions">
          {props.canEdit && (
            <button
              type="button"
              class="small"
              data-testid={`comment-edit-${c.id}`}
              aria-label={`Edit your comment of ${dateTimeFormat.format(new Date(c.created_at))}`}
              onClick={() => {
                setEditing(c.body);
                requestAnimationFrame(() => document.getElementById(`comment-edit-input-${c.id}`)?.focus());
              }}
            >
              Edit
            </button>
          )}
          {props.canDelete && (
            <button
              type="button"
              class="small danger-quiet"
              data-testid={`comment-delete-${c.id}`}
              aria-label={`Delete the comment by ${author} of ${dateTimeFormat.format(new Date(c.created_at))}`}
              disabled={del.busy}
              onClick={() => void del.run(() => props.onDelete(c.id))}
            >
              Delete
            </button>
          )}
        </div>
      )}
      <ErrorMessage source={source} />
    </li>
  );
}
