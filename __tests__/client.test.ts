import { Readable } from 'node:stream';
import { inspect } from 'node:util';

import axios, { type InternalAxiosRequestConfig } from 'axios';
import nock from 'nock';

import { attachAuth, ConfigurationError, createAuthClient, ReplayNotPossibleError } from '../src/index.js';
import { API, createWorld, credentials, OTHER } from './helpers/world.js';

const client = () => createAuthClient({ baseURL: API, auth: credentials });

/** Waits, a turn of the event loop at a time (at most 1,000 turns), until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !condition(); turn += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.restore());

describe('createAuthClient', () => {
  test('the first request makes the password grant with the exact form, and later requests reuse its token', async () => {
    const world = createWorld();
    const api = client();

    await api.get('/a');
    await api.post('/b', { x: 1 });
    await api.get('/c');

    expect(world.forms.map((form) => [...form])).toEqual([
      [
        ['grant_type', 'password'],
        ['client_id', 'client-id'],
        ['client_secret', 'client-secret-value'],
        ['username', 'user@example.com'],
        ['password', 'pass-word-value'],
      ],
    ]);
    expect(world.apiAuthorizations).toEqual(Array(3).fill('Bearer access-token-1'));
  });

  test('concurrent first requests share one grant', async () => {
    const world = createWorld({ tokenDelayMs: 30 });
    const api = client();
    await Promise.all(Array.from({ length: 50 }, (_, i) => api.get(`/r/${i}`)));
    expect(world.totalGrants).toBe(1);
  });

  test('passes every other option to axios.create and exposes the token manager', async () => {
    createWorld();
    const api = createAuthClient({ baseURL: API, headers: { 'X-Tenant': 't1' }, auth: credentials });
    expect(api.defaults.headers['X-Tenant']).toBe('t1');
    await api.get('/a');
    expect(api.tokens.current?.accessToken).toBe('access-token-1');
  });

  test('does not mutate the config object it was given', () => {
    const config = { baseURL: API, auth: credentials };
    const copy = structuredClone(config);
    createAuthClient(config);
    expect(config).toEqual(copy);
  });
});

describe('where the token goes', () => {
  test('a request with an absolute URL to another origin gets no Authorization header, and its 401 starts no grant', async () => {
    let seen: string | null = 'not called';
    nock(OTHER).get('/steal').reply((req: Request) => {
      seen = req.headers.get('authorization');
      return [401, {}];
    });
    const world = createWorld();
    const api = client();

    await expect(api.get(`${OTHER}/steal`)).rejects.toMatchObject({ response: { status: 401 } });

    expect(seen).toBeNull();
    expect(world.totalGrants).toBe(0);
  });

  test('requests to the configured allowedOrigins carry the token; the baseURL origin then does not', async () => {
    let otherHeader: string | null = null;
    nock(OTHER).get('/ok').reply((req: Request) => {
      otherHeader = req.headers.get('authorization');
      return [200, {}];
    });
    const world = createWorld();
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, allowedOrigins: [OTHER] } });

    await api.get(`${OTHER}/ok`);
    await expect(api.get('/a')).rejects.toMatchObject({ response: { status: 401 } });

    expect(otherHeader).toBe('Bearer access-token-1');
    expect(world.apiAuthorizations).toEqual([null]);
  });

  test('an instance without baseURL needs allowedOrigins, and says so with a typed error', () => {
    expect(() => attachAuth(axios.create(), credentials)).toThrow(ConfigurationError);
    expect(() => attachAuth(axios.create(), credentials)).toThrow(/allowedOrigins/);
  });

  test('a request with skipAuth is sent without a token and its 401 is not handled', async () => {
    const world = createWorld();
    const api = client();

    await expect(api.get('/public', { skipAuth: true })).rejects.toMatchObject({ response: { status: 401 } });

    expect(world.apiAuthorizations).toEqual([null]);
    expect(world.totalGrants).toBe(0);
  });

  test('axios errors of authorized requests do not print the access token', async () => {
    nock(API).get('/boom').reply(500, { error: 'server' });
    createWorld();
    const api = client();

    const error: unknown = await api.get('/boom').catch((e: unknown) => e);

    expect(axios.isAxiosError(error) && error.response?.status).toBe(500);
    expect(inspect(error, { depth: null })).not.toContain('access-token-1');
    expect(JSON.stringify(error)).not.toContain('access-token-1');
  });

  test('printing the client or its token manager shows no secret', async () => {
    createWorld();
    const api = client();
    await api.get('/a');
    for (const printed of [inspect(api, { depth: null }), inspect(api.tokens, { depth: null }), JSON.stringify(api.tokens.current)]) {
      for (const secret of ['client-secret-value', 'pass-word-value', 'access-token-1', 'refresh-token-1']) {
        expect(printed).not.toContain(secret);
      }
    }
  });
});

describe('attachAuth', () => {
  test('keeps the instance baseURL, default headers, adapter and its own interceptors', async () => {
    const world = createWorld();
    const seen: string[] = [];
    const instance = axios.create({ baseURL: API, headers: { 'X-App': 'demo' } });
    instance.interceptors.request.use((config) => {
      seen.push(`req:${config.headers.get('X-App') as string}:${String(config.headers.get('Authorization'))}`);
      return config;
    });
    instance.interceptors.response.use((response) => {
      seen.push(`res:${response.status}`);
      return response;
    });

    attachAuth(instance, credentials);
    await instance.get('/a');

    expect(seen).toEqual(['req:demo:Bearer access-token-1', 'res:200']);
    expect(world.totalGrants).toBe(1);
  });

  test('works with a custom adapter, which receives the same config object every interceptor saw', async () => {
    createWorld();
    const objects: InternalAxiosRequestConfig[] = [];
    let sent: unknown;
    const instance = axios.create({
      baseURL: API,
      adapter: (config) => {
        objects.push(config);
        sent = config.headers.get('Authorization');
        return Promise.resolve({ data: 'ok', status: 200, statusText: 'OK', headers: {}, config });
      },
    });
    instance.interceptors.request.use((config) => {
      objects.push(config);
      return config;
    });
    attachAuth(instance, credentials);
    instance.interceptors.request.use((config) => {
      objects.push(config);
      return config;
    });

    const response = await instance.get('/a');

    expect(response.data).toBe('ok');
    expect(objects).toHaveLength(3);
    expect(new Set(objects).size).toBe(1);
    expect(sent).toBe('Bearer access-token-1');
    // Once answered, the config the response keeps holds the redacted header (re-sending it attaches the current token).
    expect(response.config.headers.get('Authorization')).toBe('Bearer [REDACTED]');
  });

  test('detach removes exactly what attachAuth added and the instance works as before', async () => {
    const world = createWorld();
    const instance = axios.create({ baseURL: API });
    instance.interceptors.request.use((config) => config);
    const handle = attachAuth(instance, credentials);
    await instance.get('/with-auth');

    handle.detach();
    await expect(instance.get('/without-auth')).rejects.toMatchObject({ response: { status: 401 } });

    expect(world.apiAuthorizations).toEqual(['Bearer access-token-1', null]);
    expect(world.totalGrants).toBe(1);
  });
});

describe('requests that cannot simply be replayed', () => {
  test('a request waiting for a grant that is aborted rejects with axios cancel error, and the grant goes on for the others', async () => {
    const world = createWorld({ tokenDelayMs: 200 });
    const api = client();
    const controller = new AbortController();

    const aborted = api.get('/slow', { signal: controller.signal });
    const other = api.get('/other');
    setTimeout(() => controller.abort(), 20);

    const error: unknown = await aborted.catch((e: unknown) => e);
    expect(axios.isCancel(error)).toBe(true);
    await expect(other).resolves.toMatchObject({ status: 200 });
    expect(world.totalGrants).toBe(1);
    expect(world.apiAuthorizations).toEqual(['Bearer access-token-1']);
  });

  test('while a 401 renewal runs, other requests are not held back: skipAuth and other origins go at once, an abort is prompt', async () => {
    nock(OTHER).get('/elsewhere').reply(200, {});
    // Long enough that the three requests below finish inside it even on a loaded machine (300 ms was not).
    const world = createWorld({ tokenDelayMs: 1_500 });
    const api = client();
    await api.get('/warm-up');
    world.revokeAll();
    const replayed = api.get('/needs-renewal');
    await until(() => api.tokens.renewing);

    const controller = new AbortController();
    const aborted = api.get('/aborted', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    await api.get('/public', { skipAuth: true }).catch(() => undefined);
    await api.get(`${OTHER}/elsewhere`);

    expect(axios.isCancel(await aborted)).toBe(true);
    expect(api.tokens.renewing).toBe(true); // all of the above finished while the renewal was still running
    await expect(replayed).resolves.toMatchObject({ status: 200 });
    expect(world.totalGrants).toBe(2);
  });

  test('a request with a stream body that gets 401 is not replayed, says why, and a new token is fetched', async () => {
    const world = createWorld();
    const api = client();
    await api.get('/warm-up');
    world.revokeAll();

    const error: unknown = await api.post('/upload', Readable.from(['chunk'])).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ReplayNotPossibleError);
    expect((error as ReplayNotPossibleError).message).toMatch(/stream/);
    expect(world.apiAuthorizations).toEqual(['Bearer access-token-1', 'Bearer access-token-1']);
    await expect(api.get('/next')).resolves.toMatchObject({ data: { token: 'access-token-2' } });
    expect(world.totalGrants).toBe(2);
  });
});
