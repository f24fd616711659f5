/**
 * The one client of the app, and the token kept in localStorage so a
 * reload (or another tab) stays signed in.
 */
import { createClient } from '@taskwire/client';

const TOKEN_KEY = 'taskwire.token';

export function storedToken(): string | undefined {
  try {
    return window.localStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the session lasts as long as the page
  }
}

export function storeToken(token: string | undefined): void {
  try {
    if (token === undefined) window.localStorage.removeItem(TOKEN_KEY);
    else window.localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage disabled
  }
}

/** Calls fn when another tab signs in or out. */
export function onTokenChange(fn: (token: string | undefined) => void): () => void {
  const listener = (e: StorageEvent) => {
    if (e.key === TOKEN_KEY || e.key === null) fn(e.newValue ?? undefined);
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}

export const client = createClient({
  baseUrl: window.location.origin,
  // Bound: the client calls fetch as a method of its config, which a browser's fetch refuses ("Illegal invocation").
  fetch: (url, init) => window.fetch(url, init),
  // Asked when the client holds no token, and again after a 401 (another tab may have signed in again).
  getToken: storedToken,
  // A tab retries a lost connection every few seconds at most, and says it is offline after about two minutes of failures.
  live: { capMs: 5_000, maxAttempts: 30 },
});

export type Client = typeof client;
