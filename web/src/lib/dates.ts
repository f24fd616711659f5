/**
 * Due dates: the API's RFC 3339 instants (sent in UTC) and the local
 * wall-clock value of an <input type="datetime-local">, both ways.
 */
import type { Task } from '@taskwire/client';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The datetime-local value (local time, minutes; seconds only when set) of an instant; '' for none. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const base = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getSeconds() === 0 ? base : `${base}:${pad(d.getSeconds())}`;
}

/**
 * The UTC RFC 3339 instant of a datetime-local value read as local time:
 * null for an empty value, undefined for one that is not a date.
 */
export function fromLocalInput(value: string): string | null | undefined {
  if (value.trim() === '') return null;
  const m = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  // new Date rolls 31 February over into March: such a value is not a date.
  if (Number.isNaN(date.getTime()) || date.getMonth() !== mo - 1 || date.getDate() !== d) return undefined;
  return date.toISOString().replace('.000Z', 'Z');
}

/** The same instant, however each side wrote it. */
export function sameInstant(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return new Date(a).getTime() === new Date(b).getTime();
}

/** Due before `now` and not done. */
export function isOverdue(task: Pick<Task, 'due_at' | 'status'>, now: number): boolean {
  return task.due_at !== null && task.status !== 'done' && new Date(task.due_at).getTime() < now;
}

export const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A due date in words for people: "Mar 4, 2026, 10:00 AM". */
export function formatDue(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
}
