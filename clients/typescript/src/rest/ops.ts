import type { ReadyResponse, StatusResponse } from '../types.js';
import type { RestContext } from './context.js';

export function opsApi(ctx: RestContext) {
  return {
    /** `GET /`: the welcome message. */
    async root(): Promise<{ message: string }> {
      return (await ctx.http.request<{ message: string }>({ method: 'GET', path: '/', auth: false })).body;
    },
    /** `GET /healthz`: the process is up. */
    async healthz(): Promise<StatusResponse> {
      return (await ctx.http.request<StatusResponse>({ method: 'GET', path: '/healthz', auth: false })).body;
    },
    /** `GET /readyz`: the database (and broker) answer; a 503 throws a TaskwireError. */
    async readyz(): Promise<ReadyResponse> {
      return (await ctx.http.request<ReadyResponse>({ method: 'GET', path: '/readyz', auth: false })).body;
    },
  };
}

export type OpsApi = ReturnType<typeof opsApi>;
