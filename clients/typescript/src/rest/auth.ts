import type { LoginInput, SignupInput, TokenResponse, User } from '../types.js';
import type { RestContext } from './context.js';

export interface LoginOptions {
  /** Keep the token in the client for later calls (default true). */
  remember?: boolean;
}

export function authApi(ctx: RestContext) {
  return {
    /** `POST /api/v1/auth/signup`: 201 with the new user. 400 when the email or username is taken. */
    async signup(input: SignupInput): Promise<User> {
      const res = await ctx.http.request<User>({ method: 'POST', path: '/api/v1/auth/signup', json: input, auth: false });
      return res.body;
    },

    /**
     * `POST /api/v1/auth/login` with the OAuth2 password form (username or
     * email). Returns the token answer; the client keeps the token unless
     * `remember: false`.
     */
    async login(input: LoginInput, opts?: LoginOptions): Promise<TokenResponse> {
      const form: Record<string, string> = {};
      for (const [k, v] of Object.entries(input)) if (typeof v === 'string') form[k] = v;
      const res = await ctx.http.request<TokenResponse>({ method: 'POST', path: '/api/v1/auth/login', form, auth: false });
      if (opts?.remember ?? true) ctx.tokens.set(res.body.access_token);
      return res.body;
    },

    /** Forgets the client's token (a getToken callback is asked again when one is needed). */
    logout(): void {
      ctx.tokens.set(undefined);
    },
  };
}

export type AuthApi = ReturnType<typeof authApi>;
