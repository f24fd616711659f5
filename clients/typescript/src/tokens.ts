/** Returns the access token to use, or undefined when signed out. */
export type GetToken = () => string | undefined | Promise<string | undefined>;

/**
 * Holds the current access token. `getToken` is asked when there is none
 * yet and again whenever the server says the token is no longer good (a
 * REST 401, a socket closed with 4401): `refresh()`. Concurrent refreshes
 * share one call, so a burst of 401s asks the application once.
 */
export class TokenStore {
  private token: string | undefined;
  private readonly getToken: GetToken | undefined;
  private inflight: Promise<string | undefined> | undefined;

  constructor(token: string | undefined, getToken: GetToken | undefined) {
    this.token = token;
    this.getToken = getToken;
  }

  /** Whether a refresh can produce a different token. */
  get canRefresh(): boolean {
    return this.getToken !== undefined;
  }

  /** The held token, without asking getToken. */
  peek(): string | undefined {
    return this.token;
  }

  set(token: string | undefined): void {
    this.token = token;
  }

  async get(): Promise<string | undefined> {
    if (this.token !== undefined) return this.token;
    if (this.getToken) return this.refresh();
    return undefined;
  }

  refresh(): Promise<string | undefined> {
    const getToken = this.getToken;
    if (!getToken) return Promise.resolve(this.token);
    if (!this.inflight) {
      this.inflight = (async () => {
        try {
          const token = await getToken();
          this.token = token;
          return token;
        } finally {
          this.inflight = undefined;
        }
      })();
    }
    return this.inflight;
  }
}
