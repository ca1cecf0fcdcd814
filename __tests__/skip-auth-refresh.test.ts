/**
 * `skipAuthRefresh` is axios-auth-refresh's public option as well as the mark it puts on a replay. Set by a caller, it
 * keeps that request out of refresh handling, and nothing more: the caller's own Authorization header still wins, the
 * request is not replayed, and its 401 is the caller's (the token is still retired, in the background).
 */
import axios, { type AxiosRequestConfig } from 'axios';
import nock from 'nock';

import { createAuthClient } from '../src/index.js';
import { API, createWorld, credentials } from './helpers/world.js';

/** axios-auth-refresh's option, typed as its users write it. */
const optOut = { skipAuthRefresh: true } as AxiosRequestConfig;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.restore());

test("a caller's own Authorization header wins with skipAuthRefresh set too, and no grant is made for it", async () => {
  const world = createWorld();
  world.valid.add('my-own-token');
  const api = createAuthClient({ baseURL: API, auth: credentials });
  await api.get('/mine', { ...optOut, headers: { Authorization: 'Bearer my-own-token' } });
  expect(world.apiAuthorizations).toEqual(['Bearer my-own-token']);
  expect(world.totalGrants).toBe(0);
});

test('a request kept out of refresh handling gets the token, is not replayed on 401, and its token is renewed in the background', async () => {
  const world = createWorld();
  const api = createAuthClient({ baseURL: API, auth: credentials });
  await api.get('/warm');
  world.revokeAll();
  const error: unknown = await api.get('/kept-out', optOut).catch((caught: unknown) => caught);
  expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
  // Sent once with the (revoked) token, not replayed.
  expect(world.apiAuthorizations).toEqual(['Bearer access-token-1', 'Bearer access-token-1']);
  await api.get('/next');
  expect(world.apiAuthorizations.at(-1)).toBe('Bearer access-token-2');
  expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
});

test('without the option, the same 401 is replayed once with a new token (the control)', async () => {
  const world = createWorld();
  const api = createAuthClient({ baseURL: API, auth: credentials });
  await api.get('/warm');
  world.revokeAll();
  await api.get('/replayed');
  expect(world.apiAuthorizations).toEqual(['Bearer access-token-1', 'Bearer access-token-1', 'Bearer access-token-2']);
  expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
});
