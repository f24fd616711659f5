/**
 * The part of the WebSocket API the client uses. The browser's WebSocket
 * and the `ws` package's both fit; tests pass a scripted fake.
 */

// Event parameters are declared bivariantly (as methods are) so the
// platform classes, whose handlers take richer event types, are accepted.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onerror: Handler<unknown> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** ws(s)://host/path?query from the REST base URL (http → ws, https → wss). */
export function socketUrl(baseUrl: string, path: string, query: string): string {
  const url = baseUrl.replace(/\/+$/, '').replace(/^http(s?):\/\//i, (_m, s: string) => `ws${s}://`);
  return `${url}${path}${query === '' ? '' : `?${query}`}`;
}

/**
 * The HTTP status of a refused handshake when the implementation tells it
 * (the `ws` package's error says "Unexpected server response: 403"); browsers
 * never do, so callers must cope with undefined.
 */
export function handshakeStatus(errorEvent: unknown): number | undefined {
  const e = errorEvent as { message?: unknown; error?: { message?: unknown } } | null;
  const text = [e?.message, e?.error?.message].find((m) => typeof m === 'string') as string | undefined;
  const m = text === undefined ? null : /Unexpected server response: (\d{3})/.exec(text);
  return m ? Number(m[1]) : undefined;
}
