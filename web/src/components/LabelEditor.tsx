import type { Task } from '@taskwire/client';
import { useRef, useState } from 'preact/hooks';
import { useTaskChange } from '../hooks/useTaskChange';
import { hasLabel, labelTone, withLabel, withoutLabel } from '../lib/labels';
import { ErrorMessage } from './ErrorMessage';

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The task view's labels: each chip has a remove button; typing a label
 * and pressing Enter (or Add) adds it, with the project's labels offered
 * as suggestions. Saved at once, as a change over the latest version.
 */
export function LabelEditor(props: { task: Task; suggestions: readonly string[]; onSaved: (t: Task) => void }) {
  const { task } = props;
  const id = task.id;
  const source = `task-labels-${id}`;
  const { run, busy } = useTaskChange(task, source, props.onSaved);
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const labels = task.labels ?? [];

  const add = async (e: Event) => {
    e.preventDefault();
    const name = text.trim();
    setStatus('');
    if (name !== '' && hasLabel(labels, name)) {
      setText('');
      setStatus(`The task already has the label ${name}.`);
      return;
    }
    const ok = await run((t) => {
      const next = withLabel(t.labels ?? [], name);
      return same(next, t.labels ?? []) ? null : { labels: next };
    });
    if (ok) {
      setText('');
      setStatus(`Added the label ${name}.`);
    }
  };

  const remove = async (name: string) => {
    setStatus('');
    const ok = await run((t) => (hasLabel(t.labels ?? [], name) ? { labels: withoutLabel(t.labels ?? [], name) } : null));
    if (ok) setStatus(`Removed the label ${name}.`);
    // The chip's button is gone: the focus goes to the field that adds labels.
    input.current?.focus();
  };

  const listId = `task-${id}-label-suggestions`;
  const suggestions = props.suggestions.filter((s) => !hasLabel(labels, s));
  return (
    <section class="task-section" aria-labelledby={`task-${id}-labels-heading`}>
      <h3 id={`task-${id}-labels-heading`}>Labels</h3>
      {labels.length === 0 ? (
        <p class="empty">No labels.</p>
      ) : (
        <ul class="labels editable" aria-label="Labels of this task">
          {labels.map((l) => (
            <li key={l.toLowerCase()} class={`label-chip tone-${labelTone(l)}`}>
              {l}
              <button
                type="button"
                class="chip-remove"
                data-testid={`label-remove-${id}-${l}`}
                aria-label={`Remove the label ${l}`}
                title="Remove"
                disabled={busy}
                onClick={() => void remove(l)}
              >
                <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="inline-form label-form" onSubmit={(e) => void add(e)} noValidate>
        <label for={`label-input-${id}`}>Add a label</label>
        <div class="row">
          <input
            ref={input}
            id={`label-input-${id}`}
            data-testid={`label-input-${id}`}
            list={suggestions.length ? listId : undefined}
            maxLength={50}
            autoComplete="off"
            aria-describedby={`task-${id}-label-hint`}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit" data-testid={`label-add-${id}`} disabled={busy}>
            Add
          </button>
        </div>
        {suggestions.length > 0 && (
          <datalist id={listId}>
            {suggestions.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
        )}
        <p class="hint" id={`task-${id}-label-hint`}>
          Enter adds it. Up to 20 labels of 50 characters.
        </p>
        <p class="visually-hidden" role="status">
          {status}
        </p>
        <ErrorMessage source={source} />
      </form>
    </section>
  );
}
