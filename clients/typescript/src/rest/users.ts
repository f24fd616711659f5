import type { User, UserRef } from '../types.js';
import type { RestContext } from './context.js';

export function usersApi(ctx: RestContext) {
  return {
    /** `GET /api/v1/users/me`. */
    async me(): Promise<User> {
      return (await ctx.http.request<User>({ method: 'GET', path: '/api/v1/users/me', retry: true })).body;
    },
    /** `GET /api/v1/users/lookup`: the user with exactly this username or email (404 otherwise). */
    async lookup(by: { username: string } | { email: string }): Promise<UserRef> {
      const res = await ctx.http.request<UserRef>({ method: 'GET', path: '/api/v1/users/lookup', query: by, retry: true });
      return res.body;
    },
  };
}

export type UsersApi = ReturnType<typeof usersApi>;
