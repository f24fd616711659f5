import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** PostgreSQL and Redis for suites that run several instances. */
export interface Services {
  postgresUrl: string;
  redisUrl: string;
}

/**
 * TASKWIRE_TEST_POSTGRES_URL and TASKWIRE_TEST_REDIS_URL, or why they are
 * missing. Suites skip on `missing`, except under TASKWIRE_REQUIRE_SERVER=1
 * (CI), where a missing service must fail rather than turn red into green:
 * `required` says so.
 */
export function services(): { services: Services } | { missing: string; required: boolean } {
  const postgresUrl = process.env['TASKWIRE_TEST_POSTGRES_URL'] ?? '';
  const redisUrl = process.env['TASKWIRE_TEST_REDIS_URL'] ?? '';
  const unset = [
    ...(postgresUrl === '' ? ['TASKWIRE_TEST_POSTGRES_URL'] : []),
    ...(redisUrl === '' ? ['TASKWIRE_TEST_REDIS_URL'] : []),
  ];
  if (unset.length === 0) return { services: { postgresUrl, redisUrl } };
  return { missing: `${unset.join(' and ')} unset`, required: process.env['TASKWIRE_REQUIRE_SERVER'] === '1' };
}

function psql(url: string, sql: string): void {
  const res = spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
  if (res.error || res.status !== 0) throw new Error(`psql ${sql}: ${res.error?.message ?? res.stderr}`);
}

/** A fresh, empty schema: `url` has it as search_path; `drop()` removes it with everything in it. */
export function privateSchema(baseUrl: string): { url: string; schema: string; drop(): void } {
  const schema = `tw_e2e_${randomBytes(6).toString('hex')}`;
  psql(baseUrl, `CREATE SCHEMA ${schema}`);
  const u = new URL(baseUrl);
  u.searchParams.set('search_path', schema);
  return {
    url: u.toString(),
    schema,
    drop: () => psql(baseUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`),
  };
}

/** A Redis key prefix no other run uses; `clear()` deletes its keys (best effort: needs redis-cli). */
export function redisPrefix(redisUrl: string): { prefix: string; clear(): void } {
  const prefix = `tw-e2e-${randomBytes(4).toString('hex')}:`;
  return {
    prefix,
    clear: () => {
      const scan = spawnSync('redis-cli', ['-u', redisUrl, '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' });
      const keys = scan.status === 0 ? scan.stdout.split('\n').filter((k) => k !== '') : [];
      if (keys.length > 0) spawnSync('redis-cli', ['-u', redisUrl, 'DEL', ...keys]);
    },
  };
}
