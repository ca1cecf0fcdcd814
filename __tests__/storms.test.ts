import axios from 'axios';
import nock from 'nock';

import { createAuthClient, InvalidClientError, UserAuthenticationError } from '../src/index.js';
import { API, createWorld, credentials } from './helpers/world.js';

const client = () => createAuthClient({ baseURL: API, auth: credentials });
const burst = <T>(n: number, send: (i: number) => Promise<T>) => Promise.allSettled(Array.from({ length: n }, (_, i) => send(i)));
const fulfilled = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'fulfilled').length;

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  jest.restoreAllMocks();
  nock.cleanAll();
});
afterAll(() => nock.restore());

describe('a storm of requests', () => {
  test('500 concurrent requests on an expired token make exactly one token call and all succeed, with no 401', async () => {
    const world = createWorld({ expiresIn: 60 });
    const api = client();
    await api.get('/warm-up');
    // 61 s pass, on both clocks: the server's (wall clock) and the client's schedule (monotonic).
    const later = Date.now() + 61_000;
    const monotonicLater = performance.now() + 61_000;
    jest.spyOn(Date, 'now').mockReturnValue(later);
    jest.spyOn(performance, 'now').mockReturnValue(monotonicLater);

    const results = await burst(500, (i) => api.get(`/reports/${i}`));

    expect(fulfilled(results)).toBe(500);
    expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
    expect(world.apiAuthorizations.filter((h) => h !== 'Bearer access-token-2')).toEqual(['Bearer access-token-1']);
  });

  test('500 concurrent requests whose token the server revoked are replayed after exactly one grant', async () => {
    const world = createWorld();
    const api = client();
    await api.get('/warm-up');
    world.revokeAll();

    const results = await burst(500, (i) => api.get(`/reports/${i}`));

    expect(fulfilled(results)).toBe(500);
    expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
    // 1 warm-up, 500 rejected with the revoked token, 500 replays with the new one.
    expect(world.apiAuthorizations).toHaveLength(1001);
    expect(world.apiAuthorizations.filter((h) => h === 'Bearer access-token-2')).toHaveLength(500);
  });

  test('401s that arrive before, during and after the refresh share one grant', async () => {
    // The same revoked token comes back 401 at three moments: at once, while the refresh runs, after it finished.
    const delays: Record<string, number> = { '/during': 50, '/after': 250 };
    const world = createWorld({ tokenDelayMs: 100, apiDelayMs: (path) => delays[path] ?? 0 });
    const api = client();
    await api.get('/warm-up');
    world.revokeAll();

    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, () => api.get('/before')),
      ...Array.from({ length: 20 }, () => api.get('/during')),
      ...Array.from({ length: 20 }, () => api.get('/after')),
    ]);

    expect(fulfilled(results)).toBe(60);
    expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
    expect(world.apiAuthorizations.filter((h) => h === 'Bearer access-token-1')).toHaveLength(61);
  });

  test('a replayed request that fails with 401 again reaches the caller as that 401, with no second grant', async () => {
    nock(API).get('/forbidden-forever').times(2).reply(401, { error: 'invalid_token' });
    const world = createWorld();
    const api = client();

    const error: unknown = await api.get('/forbidden-forever').catch((e: unknown) => e);

    expect(axios.isAxiosError(error) && error.response?.status).toBe(401);
    expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
    expect(nock.pendingMocks().filter((m) => m.includes('forbidden-forever'))).toEqual([]);
  });

  test('when the first grant fails, every waiting request rejects with the same typed error after one token call', async () => {
    const world = createWorld();
    world.failNext(401, { error: 'invalid_client' });
    const api = client();

    const results = await burst(100, (i) => api.get(`/reports/${i}`));

    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as unknown) : r.value));
    expect(reasons.every((reason) => reason instanceof InvalidClientError)).toBe(true);
    expect(new Set(reasons).size).toBe(1);
    expect(world.forms).toHaveLength(1);
    expect(world.apiAuthorizations).toEqual([]);
  });

  test('when refresh and password grant both fail during a 401 storm, every request rejects with the typed error', async () => {
    const world = createWorld();
    const api = client();
    await api.get('/warm-up');
    world.revokeAll();
    world.failNext(400, { error: 'invalid_grant' });
    world.failNext(403, { error: 'access_denied' });

    const results = await burst(200, (i) => api.get(`/reports/${i}`));

    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as unknown) : r.value));
    expect(reasons.filter((reason) => reason instanceof UserAuthenticationError)).toHaveLength(200);
    expect(world.forms.map((form) => form.get('grant_type'))).toEqual(['password', 'refresh_token', 'password']);
  });

  test('a failed renewal is not cached: the next request after it tries again and succeeds', async () => {
    const world = createWorld();
    world.failNext(503, {}, 3);
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, retry: { attempts: 3, baseDelayMs: 1 } } });

    await expect(api.get('/first')).rejects.toMatchObject({ code: 'ERR_OAUTH_TOKEN_ENDPOINT', status: 503 });
    await expect(api.get('/second')).resolves.toMatchObject({ status: 200 });
    expect(world.forms).toHaveLength(4);
  });
});
