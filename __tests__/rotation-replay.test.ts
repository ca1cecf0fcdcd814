/**
 * A server that revokes the old access token when it rotates: replays that were in flight with a token a newer renewal
 * replaced are refused through no fault of theirs. They are sent once more with the current token; a replay refused
 * with the current token is final. Real sockets on 127.0.0.1: the loopback token endpoint, and an API of this test's
 * own that accepts only the newest token and decides a request only after holding it for a while.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { type AuthClient, createAuthClient } from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

const HOLD_MS = 100;

let authServer: AuthServer;
let api: http.Server;
let apiUrl = '';
/** The one token the API accepts: the newest the client received (every rotation revokes the one before). */
let accepted: string | undefined;
/** Called with the token of each request as it arrives, before it is held. */
let onArrival: (token: string) => void = () => undefined;
const hits = { ok: 0, refused: 0 };

beforeAll(async () => {
  authServer = await startAuthServer();
  api = http.createServer((request, response) => {
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    onArrival(token);
    setTimeout(() => {
      const ok = token === accepted;
      hits[ok ? 'ok' : 'refused'] += 1;
      response.writeHead(ok ? 200 : 401, ok ? {} : { 'www-authenticate': 'Bearer' }).end(ok ? 'ok' : '');
    }, HOLD_MS);
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${String((api.address() as AddressInfo).port)}`;
});
afterAll(async () => {
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
  await authServer.close();
});
beforeEach(() => {
  hits.ok = 0;
  hits.refused = 0;
  onArrival = () => undefined;
  authServer.resetStats();
});

function client(): AuthClient {
  return createAuthClient({ baseURL: apiUrl, auth: { ...authServer.credentials, onToken: ({ tokens }) => void (accepted = tokens.accessToken) } });
}

test('replays refused because a rotation replaced their token in flight are sent once more with the current one', async () => {
  const auth = client();
  await auth.get('/warm-up');
  const first = auth.tokens.current?.accessToken;
  hits.ok = 0;
  accepted = undefined; // the server revokes every token: the burst below gets 401s
  let rotated = false;
  onArrival = (token) => {
    // The first replay with the renewed token arrives: rotate once more while the replays are held.
    if (!rotated && token !== first && token !== '') {
      rotated = true;
      void auth.tokens.refresh();
    }
  };

  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => auth.get(`/r/${String(i)}`)));

  expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(50);
  expect(authServer.stats.grants.refresh_token).toBe(2); // one for the storm, one rotation
  expect(hits.ok).toBe(50);
  // Ideally 100: each request's 401, then its replay's 401 with the rotated-away token. On a loaded machine a replay
  // can leave only after the rotation finished and go out with the current token at once (99 was seen at load 11).
  // More than 50 proves some replays met the rotation and were sent once more (all 50 fulfilled); at most 100 that no
  // request was sent more than three times.
  expect(hits.refused).toBeGreaterThan(50);
  expect(hits.refused).toBeLessThanOrEqual(100);
});

test('a replay refused with the current token is final: no third send, no loop', async () => {
  const auth = client();
  await auth.get('/warm-up');
  accepted = undefined;
  onArrival = () => {
    accepted = undefined; // nothing the client holds is ever accepted again
  };

  const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => auth.get(`/r/${String(i)}`)));

  expect(results.every((result) => result.status === 'rejected')).toBe(true);
  expect(hits.refused).toBe(10); // the request and its one replay, each
  expect(authServer.stats.grants.refresh_token).toBe(1);
});
