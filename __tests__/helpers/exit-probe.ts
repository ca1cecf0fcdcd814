/**
 * Run as a child process by e2e-loopback.test.ts: uses the client for a first grant, a proactive renewal and a 401
 * storm, closes the server, and then simply stops. If the library left a timer or socket behind, the process would
 * not exit on its own and the test's time bound would end it.
 */
import { createAuthClient } from '../../src/index.js';
import { startAuthServer } from '../../src/testing/server.js';

const server = await startAuthServer({ expiresIn: 1 });
const api = createAuthClient({ baseURL: server.apiUrl, auth: server.credentials });
let failures = 0;
const get = (path: string): Promise<unknown> =>
  api.get(path).catch(() => {
    failures += 1;
  });

await get('/first');
await new Promise((r) => setTimeout(r, 900)); // inside the refresh margin: a background renewal starts
await get('/renewal');
server.revokeAll();
await Promise.all(Array.from({ length: 50 }, (_, i) => get(`/storm/${String(i)}`)));
await server.close();
process.stdout.write(`probe done: 52 requests, ${String(failures)} failures\n`);
