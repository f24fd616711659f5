import { isNetworkError, isTaskwireError } from '@taskwire/client';

/** A person's reading of an error: the server's message, a 422's fields named plainly. */
export function messageOf(err: unknown): string {
  if (isTaskwireError(err)) {
    if (err.fieldErrors.length > 0) {
      return err.fieldErrors
        .map((e) => {
          const field = e.loc.filter((p) => p !== 'body' && p !== 'query' && p !== 'path').join('.');
          return field ? `${field}: ${e.msg}` : e.msg;
        })
        .join('; ');
    }
    return err.detail;
  }
  if (isNetworkError(err)) return 'Cannot reach the server. Check your connection and try again.';
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A check made before asking the server: its message is shown like the server's. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Throws an InputError with `message` unless `value` has something besides spaces. */
export function required(value: string, message: string): string {
  const v = value.trim();
  if (v === '') throw new InputError(message);
  return v;
}

/** The session's token is no longer accepted. */
export function isUnauthorized(err: unknown): boolean {
  return isTaskwireError(err) && err.status === 401;
}
