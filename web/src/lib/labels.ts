/**
 * Task labels as the API keeps them: 0–20 distinct strings of 1–50
 * characters, trimmed, compared case-insensitively, stored as first
 * written.
 */
import { InputError } from './errors';

export const MAX_LABELS = 20;
export const MAX_LABEL_LENGTH = 50;

const key = (label: string) => label.trim().toLowerCase();

export function sameLabel(a: string, b: string): boolean {
  return key(a) === key(b);
}

export function hasLabel(labels: readonly string[], label: string): boolean {
  return labels.some((l) => sameLabel(l, label));
}

/** The labels with `label` added; throws an InputError saying why it cannot be. */
export function withLabel(labels: readonly string[], label: string): string[] {
  const name = label.trim();
  if (name === '') throw new InputError('Type a label first.');
  if ([...name].length > MAX_LABEL_LENGTH) throw new InputError(`A label has at most ${MAX_LABEL_LENGTH} characters.`);
  if (hasLabel(labels, name)) return [...labels];
  if (labels.length >= MAX_LABELS) throw new InputError(`A task has at most ${MAX_LABELS} labels.`);
  return [...labels, name];
}

export function withoutLabel(labels: readonly string[], label: string): string[] {
  return labels.filter((l) => !sameLabel(l, label));
}

/** Tasks carrying every label of `filter` (all of them: as the API's repeated ?label=). */
export function matchesLabels(task: { labels: readonly string[] }, filter: readonly string[]): boolean {
  return filter.every((f) => hasLabel(task.labels, f));
}

const TONES = 6;

/** One of a few colour pairs, always the same for the same label (whatever its case). */
export function labelTone(label: string): number {
  let h = 0;
  for (const ch of key(label)) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return h % TONES;
}
