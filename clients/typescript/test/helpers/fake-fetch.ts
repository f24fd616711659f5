import type { FetchLike } from '../../src/index.js';

export interface FakeRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string | undefined;
}

export type FakeAnswer = Response | 'network-error';
type Handler = (req: FakeRequest, match: RegExpExecArray) => FakeAnswer | Promise<FakeAnswer>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  times: number;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = body === undefined ? null : JSON.stringify(body);
  return new Response(status === 204 ? null : text, {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/**
 * A scripted fetch: routes match method and path (a regexp on the path
 * without the query); the newest matching route wins, so a test can
 * override a default. Every call is recorded in `calls`.
 */
export class FakeFetch {
  readonly calls: FakeRequest[] = [];
  private readonly routes: Route[] = [];

  on(method: string, pattern: RegExp, handler: Handler | FakeAnswer, times = Infinity): this {
    const h: Handler = typeof handler === 'function' ? handler : () => cloneAnswer(handler);
    this.routes.push({ method, pattern: anchored(pattern), handler: h, times });
    return this;
  }

  /** A route that answers only once (then the older ones apply again). */
  once(method: string, pattern: RegExp, handler: Handler | FakeAnswer): this {
    return this.on(method, pattern, handler, 1);
  }

  callsTo(method: string, pattern: RegExp): FakeRequest[] {
    const re = anchored(pattern);
    return this.calls.filter((c) => c.method === method && re.test(c.path));
  }

  readonly fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    const req: FakeRequest = {
      method: init.method,
      url,
      path: u.pathname,
      query: u.searchParams,
      headers: Object.fromEntries(Object.entries(init.headers).map(([k, v]) => [k.toLowerCase(), v])),
      body: init.body,
    };
    this.calls.push(req);
    for (let i = this.routes.length - 1; i >= 0; i--) {
      const route = this.routes[i]!;
      const m = route.method === req.method ? route.pattern.exec(req.path) : null;
      if (!m || route.times <= 0) continue;
      route.times--;
      const answer = await route.handler(req, m);
      if (answer === 'network-error') throw new TypeError('fetch failed');
      return answer;
    }
    return json(404, { detail: `no fake route for ${req.method} ${req.path}` });
  };
}

function anchored(re: RegExp): RegExp {
  return new RegExp(`^${re.source.replace(/^\^/, '').replace(/\$$/, '')}$`);
}

function cloneAnswer(a: FakeAnswer): FakeAnswer {
  return a === 'network-error' ? a : a.clone();
}
