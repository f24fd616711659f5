import { isConflict, type BoardMember, type Task, type UpdateTaskInput } from '@taskwire/client';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useErrors, useSession } from '../context';
import type { CommentFeed } from '../lib/comments';
import { isStatus, statusLabel } from '../lib/status';
import { InputError } from '../lib/errors';
import { CommentsPanel } from './CommentsPanel';
import { DueDateField } from './DueDateField';
import { ErrorMessage } from './ErrorMessage';
import { LabelEditor } from './LabelEditor';

interface Draft {
  /** The task as it was when editing started: what the If-Match and the change are relative to. */
  origin: Task;
  title: string;
  description: string;
}

const draftOf = (t: Task): Draft => ({ origin: t, title: t.title, description: t.description ?? '' });
const dirty = (d: Draft) => d.title !== d.origin.title || d.description !== (d.origin.description ?? '');
const sameText = (a: Task, b: Task) => a.title === b.title && (a.description ?? '') === (b.description ?? '');

/** Only the fields the person changed, so a retry over a newer version keeps the other person's changes. */
function patchOf(d: Draft): UpdateTaskInput {
  const patch: UpdateTaskInput = {};
  if (d.title !== d.origin.title) patch.title = d.title.trim();
  if (d.description !== (d.origin.description ?? '')) patch.description = d.description;
  return patch;
}

const updatedFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * The task view: title and description, saved with If-Match. A 412 shows
 * the newer version (task-conflict) and lets the person retry their change
 * on top of it or take the newer version. While nothing is being edited the
 * fields follow the live task. Below: labels and the due date (each saved
 * at once), the task's details, and its comments.
 */
export function TaskPanel(props: {
  taskId: number;
  task: Task | undefined;
  members: BoardMember[];
  ownerId: number;
  names: ReadonlyMap<number, string>;
  projectLabels: readonly string[];
  comments: CommentFeed;
  onClose: () => void;
}) {
  const { taskId, task } = props;
  const { client } = useSession();
  const errors = useErrors();
  const source = `task-edit-${taskId}`;
  const [draft, setDraft] = useState<Draft | null>(() => (task ? draftOf(task) : null));
  const [conflict, setConflict] = useState<Task | null>(null);
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);

  // Layout effects: the focus and the Escape key work from the first frame the view is shown.
  useLayoutEffect(() => {
    heading.current?.focus();
  }, []);

  useEffect(() => {
    if (task) setDraft((d) => (d && dirty(d) ? d : draftOf(task)));
  }, [task]);

  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) props.onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [props.onClose]);

  const save = async (version: number) => {
    if (!draft) return;
    if (draft.title.trim() === '') {
      errors.report(source, new InputError('A task needs a title.'));
      return;
    }
    const patch = patchOf(draft);
    if (Object.keys(patch).length === 0) {
      setStatus('Nothing to save.');
      return;
    }
    setSaving(true);
    setStatus('');
    errors.clear(source);
    try {
      const saved = await client.tasks.update(taskId, patch, { ifMatch: version });
      setDraft(draftOf(saved));
      setConflict(null);
      setStatus('Saved.');
    } catch (err) {
      errors.report(source, err);
      if (isConflict(err)) {
        try {
          setConflict((await client.tasks.get(taskId)).task);
        } catch (again) {
          errors.report(source, again);
        }
      }
    } finally {
      setSaving(false);
    }
  };

  // The person's own label or due-date change is not someone else's edit: an unsaved title keeps its If-Match base current.
  const onSaved = useCallback((saved: Task) => {
    setDraft((d) => (d && dirty(d) && saved.version > d.origin.version && sameText(d.origin, saved) ? { ...d, origin: saved } : d));
  }, []);

  const name = (id: number | null) =>
    id === null ? 'Nobody' : (props.members.find((m) => m.user_id === id)?.user.username ?? `user ${id}`);

  return (
    <aside class="task-panel" aria-labelledby="task-panel-heading" data-testid="task-view">
      <div class="panel-head">
        <h2 id="task-panel-heading" tabIndex={-1} ref={heading}>
          {task ? task.title : 'Task'}
        </h2>
        <button type="button" class="small" onClick={props.onClose} aria-label="Close the task">
          Close
        </button>
      </div>
      {!task && <p>This task does not exist (any more) in this project.</p>}
      {task && draft && (
        <>
          <form
            class="task-form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              // After a conflict the person has seen the newer version: saving again means over it.
              void save(conflict ? conflict.version : draft.origin.version);
            }}
          >
            <label for={`task-${taskId}-edit-title`}>Title</label>
            <input
              id={`task-${taskId}-edit-title`}
              data-testid={`task-edit-title-${taskId}`}
              value={draft.title}
              onInput={(e) => setDraft({ ...draft, title: e.currentTarget.value })}
            />
            <label for={`task-${taskId}-description`}>Description</label>
            <textarea
              id={`task-${taskId}-description`}
              data-testid={`task-description-${taskId}`}
              rows={6}
              value={draft.description}
              aria-describedby={`task-${taskId}-description-hint`}
              onInput={(e) => setDraft({ ...draft, description: e.currentTarget.value })}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
            />
            <p class="hint" id={`task-${taskId}-description-hint`}>
              Enter saves; Shift+Enter starts a new line.
            </p>
            <ErrorMessage source={source} />
            {conflict && (
              <div class="conflict" data-testid="task-conflict" role="group" aria-labelledby="conflict-heading">
                <h3 id="conflict-heading">Someone else changed this task</h3>
                <p>Your change was not saved. This is the newer version (version {conflict.version}):</p>
                <dl>
                  <dt>Title</dt>
                  <dd>{conflict.title}</dd>
                  <dt>Description</dt>
                  <dd>{conflict.description || 'None'}</dd>
                  <dt>Status</dt>
                  <dd>{isStatus(conflict.status) ? statusLabel[conflict.status] : conflict.status}</dd>
                </dl>
                <div class="row">
                  <button
                    type="button"
                    class="primary"
                    data-testid="task-conflict-retry"
                    disabled={saving}
                    onClick={() => void save(conflict.version)}
                  >
                    Retry with my changes
                  </button>
                  <button
                    type="button"
                    data-testid="task-conflict-discard"
                    onClick={() => {
                      setDraft(draftOf(task.version >= conflict.version ? task : conflict));
                      setConflict(null);
                      errors.clear(source);
                    }}
                  >
                    Take theirs
                  </button>
                </div>
              </div>
            )}
            <div class="row">
              <button type="submit" class="primary" data-testid={`task-save-${taskId}`} disabled={saving}>
                {saving ? 'Saving…' : 'Save'}
              </button>
              <button type="button" disabled={!dirty(draft) || saving} onClick={() => setDraft(draftOf(task))}>
                Revert
              </button>
              <span class="save-status" role="status">
                {status}
              </span>
            </div>
          </form>
          <LabelEditor task={task} suggestions={props.projectLabels} onSaved={onSaved} />
          <DueDateField task={task} onSaved={onSaved} />
          <dl class="task-meta">
            <dt>Status</dt>
            <dd>{isStatus(task.status) ? statusLabel[task.status] : task.status}</dd>
            <dt>Assignee</dt>
            <dd>{name(task.assignee_id)}</dd>
            <dt>Version</dt>
            <dd>{task.version}</dd>
            <dt>Updated</dt>
            <dd>
              <time dateTime={task.updated_at}>{updatedFormat.format(new Date(task.updated_at))}</time>
            </dd>
          </dl>
          <CommentsPanel
            taskId={taskId}
            ownerId={props.ownerId}
            members={props.members}
            names={props.names}
            feed={props.comments}
          />
        </>
      )}
    </aside>
  );
}
