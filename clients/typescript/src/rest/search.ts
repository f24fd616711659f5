import type { components, operations } from '../openapi.js';
import { list, type RestContext } from './context.js';

/** One task a search found: the task, its project and a snippet. */
export type SearchResult = components['schemas']['SearchResult'];

/** The query of `GET /api/v1/search`: `q` (required) and `limit` (1–100, default 20). */
export type SearchQuery = NonNullable<operations['search_tasks_api_v1_search_get']['parameters']['query']>;

export function searchApi(ctx: RestContext) {
  return {
    /**
     * `GET /api/v1/search?q=`: the caller's tasks, across every project they
     * are a member of, whose title, description and comments contain every
     * word of `q` (case and accents ignored, no operators), best match first.
     * Each result's `snippet` is plain text with each word found between
     * « and ». A query without a word (`"*"`) is a 422 (`fieldErrors` at
     * `["query", "q"]`).
     */
    async search(q: string, opts?: { limit?: number }): Promise<SearchResult[]> {
      const query: SearchQuery = { q, ...(opts?.limit === undefined ? {} : { limit: opts.limit }) };
      const res = await ctx.http.request<SearchResult[] | null>({ method: 'GET', path: '/api/v1/search', query, retry: true });
      return list(res.body);
    },
  };
}
