import { nextLink, type HttpRequest, type HttpResponse } from '../http.js';
import type { RestContext } from './context.js';

/**
 * Follows `Link: <...>; rel="next"` from a first request until a page has
 * none, yielding every item. Pages are fetched lazily, one at a time.
 */
export async function* paginate<T>(
  ctx: RestContext,
  first: HttpRequest,
  items: (res: HttpResponse<unknown>) => T[],
): AsyncGenerator<T, void, undefined> {
  let req: HttpRequest | undefined = first;
  while (req) {
    const res: HttpResponse<unknown> = await ctx.http.request<unknown>(req);
    for (const item of items(res)) yield item;
    const next = nextLink(res.headers.get('link'));
    // The target already holds every query parameter of the next page.
    req = next === undefined ? undefined : { method: 'GET', path: next, retry: true };
  }
}

/** The next page's URL of a list answer, for callers paging by hand. */
export function nextOf(res: HttpResponse<unknown>): { next?: string } {
  const next = nextLink(res.headers.get('link'));
  return next === undefined ? {} : { next };
}
