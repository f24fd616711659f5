/**
 * Test helpers for the Taskwire client, reusable by other suites (fault
 * injection, property tests). Not part of the package entry.
 */
export { FakeClock, flush } from './fake-clock.js';
export { FakeSocket, FakeSocketServer } from './fake-socket.js';
export { FakeFetch, json, type FakeAnswer, type FakeRequest } from './fake-fetch.js';
export { BASE, PROJECT, ev, evs, notification, task } from './fixtures.js';
export { fakeEnv, nextSocket, socketNumber, type FakeEnv, type FakeEnvOptions } from './env.js';
export { Recorder } from './recorder.js';
export { restEnv } from './rest-env.js';
export { buildServer, startServer, type StopSignal, type TestServer } from './server.js';
export { FaultProxy, type Direction, type ProxyStats, type ProxyTarget } from './proxy.js';
export { privateSchema, redisPrefix, services, type Services } from './services.js';
export { waitFor } from './wait.js';
