import type { ApiToken, ApiTokenInput, CreatedApiToken } from '../types.js';
import { list, type RestContext } from './context.js';

const base = '/api/v1/users/me/tokens';

/** The caller's API tokens (`tw_...`): credentials for scripts and integrations. */
export function apiTokensApi(ctx: RestContext) {
  return {
    /**
     * `POST /api/v1/users/me/tokens`: 201. `token` is the secret, returned
     * only here: keep it. Not retried: a retry would make a second token.
     */
    async create(input: ApiTokenInput): Promise<CreatedApiToken> {
      return (await ctx.http.request<CreatedApiToken>({ method: 'POST', path: base, json: input })).body;
    },
    /** `GET /api/v1/users/me/tokens`: newest first, without secrets. */
    async list(): Promise<ApiToken[]> {
      return list((await ctx.http.request<ApiToken[] | null>({ method: 'GET', path: base, retry: true })).body);
    },
    /** `DELETE /api/v1/users/me/tokens/{id}`: 204; refused everywhere from then on (404 for an unknown id: `isNotFound(err)`). */
    async revoke(tokenId: number): Promise<void> {
      await ctx.http.request<void>({ method: 'DELETE', path: `${base}/${tokenId}` });
    },
  };
}

export type ApiTokensApi = ReturnType<typeof apiTokensApi>;
