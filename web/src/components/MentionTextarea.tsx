import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { insertMention, matchMembers, mentionQuery, type MentionMember } from '../lib/mentions';

interface Props {
  id: string;
  testId: string;
  value: string;
  onValue(value: string): void;
  /** Enter (without Shift) while no suggestion is offered. */
  onSubmit(): void;
  members: readonly MentionMember[];
  describedBy?: string;
  disabled?: boolean;
  rows?: number;
}

/**
 * A comment field with @-autocomplete: typing '@' and letters offers the
 * matching members in a listbox below (Up/Down choose, Enter or Tab
 * insert, Escape closes, a click inserts too). The field keeps the focus
 * and points at the chosen option with aria-activedescendant; it stays a
 * multi-line textbox (role=combobox is not allowed on a textarea), with
 * aria-autocomplete, aria-controls and a status line announcing the
 * choices.
 */
export function MentionTextarea(props: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  /** The '@' whose suggestions were closed (Escape, or one was picked): not offered again. */
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [focused, setFocused] = useState(false);
  const nextCaret = useRef<number | null>(null);

  const q = mentionQuery(props.value, caret);
  const options = q && q.at !== dismissed ? matchMembers(props.members, q.query) : [];
  const open = options.length > 0 && focused && !props.disabled;
  const listId = `${props.id}-mentions`;
  const optionId = (m: MentionMember) => `${props.id}-mention-${m.id}`;
  const current = open ? options[Math.min(active, options.length - 1)] : undefined;

  // A new '@' (or a new query) starts from the first suggestion.
  useEffect(() => setActive(0), [q?.at, q?.query]);
  useEffect(() => {
    if (q === null || (dismissed !== null && q.at !== dismissed)) setDismissed(null);
  }, [q?.at]); // eslint-disable-line react-hooks/exhaustive-deps

  useLayoutEffect(() => {
    if (nextCaret.current !== null && ref.current) {
      ref.current.setSelectionRange(nextCaret.current, nextCaret.current);
      setCaret(nextCaret.current);
      nextCaret.current = null;
    }
  });

  const track = (el: HTMLTextAreaElement) => setCaret(el.selectionStart ?? el.value.length);

  const pick = (m: MentionMember) => {
    if (!q) return;
    const next = insertMention(props.value, q.at, caret, m.username);
    nextCaret.current = next.caret;
    setDismissed(q.at);
    props.onValue(next.text);
    ref.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.isComposing) return;
    if (open && current) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setActive((options.indexOf(current) + step + options.length) % options.length);
        return;
      }
      if ((e.key === 'Enter' && !e.shiftKey) || (e.key === 'Tab' && !e.shiftKey)) {
        e.preventDefault();
        pick(current);
        return;
      }
      if (e.key === 'Escape') {
        // Closes the suggestions only (not the task view around the field).
        e.preventDefault();
        if (q) setDismissed(q.at);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      props.onSubmit();
    }
  };

  const announcement = open
    ? `${options.length} ${options.length === 1 ? 'member matches' : 'members match'}. Up and Down to choose, Enter or Tab to insert, Escape to close.`
    : '';

  return (
    <div class="mention-field">
      <textarea
        ref={ref}
        id={props.id}
        data-testid={props.testId}
        rows={props.rows ?? 3}
        value={props.value}
        disabled={props.disabled}
        aria-describedby={props.describedBy}
        aria-autocomplete="list"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={current ? optionId(current) : undefined}
        onInput={(e) => {
          props.onValue(e.currentTarget.value);
          track(e.currentTarget);
        }}
        onKeyDown={onKeyDown}
        onKeyUp={(e) => track(e.currentTarget)}
        onClick={(e) => track(e.currentTarget)}
        onFocus={(e) => {
          setFocused(true);
          track(e.currentTarget);
        }}
        onBlur={() => setFocused(false)}
      />
      {open && (
        <ul class="mention-options" id={listId} role="listbox" aria-label="Members to mention" data-testid="mention-options">
          {options.map((m) => (
            <li
              key={m.id}
              id={optionId(m)}
              role="option"
              aria-selected={m === current}
              class={m === current ? 'active' : undefined}
              data-testid={`mention-option-${m.id}`}
              // The field keeps the focus: the click picks without blurring it.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => pick(m)}
            >
              @{m.username}
            </li>
          ))}
        </ul>
      )}
      <p class="visually-hidden" role="status">
        {announcement}
      </p>
    </div>
  );
}
