/** One server and one Chromium per test file, closed after it. */
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch } from './browser.ts';
import { startServer, type TestServer } from './server.ts';

export interface Suite {
  server: TestServer;
  browser: Browser;
}

export function useSuite(env: Record<string, string> = {}): Suite {
  const suite = {} as Suite;
  before(async () => {
    suite.server = await startServer(env);
    suite.browser = await launch();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.dispose();
  });
  return suite;
}
