import { createClient, type ClientOptions } from '../../src/index.js';
import { FakeClock } from './fake-clock.js';
import { FakeFetch } from './fake-fetch.js';
import { BASE } from './fixtures.js';

/**
 * A client for REST tests: a fake fetch, a fake clock, retries without
 * jitter (random 0.5) and Idempotency-Keys key-1, key-2, ...
 */
export function restEnv(extra: Partial<ClientOptions> = {}) {
  const http = new FakeFetch();
  const clock = new FakeClock();
  let k = 0;
  const client = createClient({
    baseUrl: BASE,
    token: 'tok',
    fetch: http.fetch,
    clock,
    random: () => 0.5,
    idempotencyKey: () => `key-${++k}`,
    ...extra,
  });
  return { http, clock, client };
}
