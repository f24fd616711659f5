import { labelTone } from '../lib/labels';

/** A task's labels as chips (read only): on a card, `task-labels-<id>`. */
export function LabelList(props: { labels: readonly string[]; testId?: string }) {
  return (
    <ul class="labels" aria-label="Labels" data-testid={props.testId}>
      {props.labels.map((l) => (
        <li key={l.toLowerCase()} class={`label-chip tone-${labelTone(l)}`}>
          {l}
        </li>
      ))}
    </ul>
  );
}
