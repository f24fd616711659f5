import type { SearchResult } from '@taskwire/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useErrors, useSession } from '../context';
import { isUnauthorized, messageOf } from '../lib/errors';
import { navigate, paths } from '../lib/router';
import { snippetParts } from '../lib/snippet';
import { statusLabel, isStatus } from '../lib/status';

const DEBOUNCE_MS = 200;

type Found = { status: 'idle' } | { status: 'searching'; q: string } | { status: 'done'; q: string; results: SearchResult[] } | { status: 'failed'; q: string; error: unknown };

/**
 * Full-text search over the person's tasks in every project, in the header:
 * results appear under the field as they type (a combobox with a listbox:
 * Up/Down choose, Enter or a click opens the task, Escape closes), each
 * with its project and the matching words.
 */
export function SearchBox() {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Found>({ status: 'idle' });
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const root = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const errors = useErrors();
  const { client } = useSession();

  useEffect(() => {
    const words = q.trim();
    // The server reads only letters and digits (a query of "*" alone is refused): nothing to ask yet.
    if (!/[\p{L}\p{N}]/u.test(words)) {
      setFound({ status: 'idle' });
      return;
    }
    let alive = true;
    setFound((f) => (f.status === 'done' ? f : { status: 'searching', q: words }));
    const timer = setTimeout(() => {
      client.search(words).then(
        (results) => alive && setFound({ status: 'done', q: words, results }),
        (err: unknown) => {
          if (!alive) return;
          // An expired session goes to the login page like everywhere else; other failures are shown under the field.
          if (isUnauthorized(err)) errors.report('search', err);
          setFound({ status: 'failed', q: words, error: err });
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [q]); // eslint-disable-line react-hooks/exhaustive-deps

  const results = found.status === 'done' ? found.results : [];
  useEffect(() => setActive(-1), [results]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, [open]);

  const shown = open && found.status !== 'idle';
  const listed = shown && results.length > 0;
  const current = listed && active >= 0 ? results[active] : undefined;
  const optionId = (r: SearchResult) => `search-option-${r.task.id}`;

  const go = (r: SearchResult) => {
    setOpen(false);
    navigate(paths.task(r.project.id, r.task.id));
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) setOpen(true);
      if (results.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((a) => (a < 0 ? (step > 0 ? 0 : results.length - 1) : (a + step + results.length) % results.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const r = current ?? results[0];
      if (r && found.status === 'done') go(r);
    } else if (e.key === 'Escape') {
      // Closes the results (not the task view under them); a second Escape empties the field.
      e.preventDefault();
      if (shown) setOpen(false);
      else setQ('');
    }
  };

  const summary =
    found.status === 'idle'
      ? ''
      : found.status === 'searching'
        ? 'Searching…'
        : found.status === 'failed'
          ? messageOf(found.error)
          : found.results.length === 0
            ? `No task matches “${found.q}”.`
            : `${found.results.length} ${found.results.length === 1 ? 'task matches' : 'tasks match'}. Up and Down to choose, Enter to open.`;

  return (
    <div class="search" ref={root} role="search">
      <label for="search-input" class="visually-hidden">
        Search tasks
      </label>
      <input
        ref={input}
        id="search-input"
        type="search"
        class="search-input"
        data-testid="search-input"
        placeholder="Search"
        autoComplete="off"
        spellcheck={false}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={listed}
        aria-controls="search-listbox"
        aria-activedescendant={current ? optionId(current) : undefined}
        aria-describedby="search-summary"
        value={q}
        onInput={(e) => {
          setQ(e.currentTarget.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onClick={() => setOpen(true)}
        onKeyDown={onKeyDown}
      />
      <p id="search-summary" class="visually-hidden" role="status">
        {shown ? summary : ''}
      </p>
      <div class="search-results" data-testid="search-results" hidden={!shown}>
        {!listed && <p class="search-note">{summary}</p>}
        <ul id="search-listbox" role="listbox" aria-label="Matching tasks" hidden={!listed}>
          {results.map((r, i) => (
            <li
              key={r.task.id}
              id={optionId(r)}
              role="option"
              aria-selected={i === active}
              class={`search-result${i === active ? ' active' : ''}`}
              data-testid={`search-result-${r.task.id}`}
              onMouseDown={(e) => e.preventDefault()}
              onMouseMove={() => i !== active && setActive(i)}
              onClick={() => go(r)}
            >
              <span class="result-title">{r.task.title}</span>
              <span class="result-meta">
                {r.project.name}
                {isStatus(r.task.status) ? ` · ${statusLabel[r.task.status]}` : ''}
              </span>
              {r.snippet && (
                <span class="result-snippet">
                  {snippetParts(r.snippet).map((p, k) => (p.hit ? <mark key={k}>{p.text}</mark> : p.text))}
                </span>
              )}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
