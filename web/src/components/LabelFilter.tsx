import type { LabelCount } from '@taskwire/client';
import { labelTone, sameLabel } from '../lib/labels';

/**
 * The board's label filter: one toggle per label of the project, with how
 * many tasks carry it. Toggled on, the board shows only the tasks carrying
 * every chosen label; it says so, and how many it shows, with a button to
 * clear it.
 */
export function LabelFilter(props: {
  labels: readonly LabelCount[];
  active: readonly string[];
  shown: number;
  total: number;
  onChange(active: string[]): void;
}) {
  const { active } = props;
  const isOn = (name: string) => active.some((a) => sameLabel(a, name));
  // A chosen label that no task carries any more stays, so it can be turned off.
  const chips = [
    ...props.labels,
    ...active.filter((a) => !props.labels.some((l) => sameLabel(l.name, a))).map((name) => ({ name, count: 0 })),
  ];
  if (chips.length === 0) return null;
  const toggle = (name: string) =>
    props.onChange(isOn(name) ? active.filter((a) => !sameLabel(a, name)) : [...active, name]);
  return (
    <div class="label-filter" role="group" aria-labelledby="label-filter-heading" data-testid="label-filter" data-active={active.join(',')}>
      <span id="label-filter-heading" class="label-filter-heading">
        Filter by label
      </span>
      <ul class="labels">
        {chips.map((l) => (
          <li key={l.name.toLowerCase()}>
            <button
              type="button"
              class={`label-chip tone-${labelTone(l.name)} filter-chip${isOn(l.name) ? ' on' : ''}`}
              data-testid={`label-filter-${l.name}`}
              aria-pressed={isOn(l.name)}
              onClick={() => toggle(l.name)}
            >
              {isOn(l.name) && <span aria-hidden="true">✓ </span>}
              {l.name}
              <span class="chip-count">
                {l.count}
                <span class="visually-hidden"> {l.count === 1 ? 'task' : 'tasks'}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <p class="label-filter-status">
        <span role="status">
          {active.length > 0 &&
            `Showing ${props.shown} of ${props.total} ${props.total === 1 ? 'task' : 'tasks'}: labelled ${active.join(' and ')}.`}
        </span>
        {active.length > 0 && (
          <>
            {' '}
            <button type="button" class="link-button" data-testid="label-filter-clear" onClick={() => props.onChange([])}>
              Clear the filter
            </button>
          </>
        )}
      </p>
    </div>
  );
}
