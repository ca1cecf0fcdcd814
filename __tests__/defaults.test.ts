/**
 * The documented defaults (README, Options) pinned twice: as literal values, never compared with `defaults.x` itself
 * (a test that reads the default it checks passes whatever the default is), and by what a client built without the
 * option does, so that a changed default fails here even if someone edits the literal with it. The behaviour runs on
 * Jest's fake clock against the in-memory authority (src/testing/memory.ts: the loopback server's rules without a
 * socket), so every wait is exact.
 */
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

import { ConfigurationError, createAuthClient, defaults, MemoryTokenStore, OAuthBearerError, UserAuthenticationError } from '../src/index.js';
import { resolveAuthOptions } from '../src/options.js';
import { createMemoryAuthority, type MemoryAuthority } from '../src/testing/index.js';

const credentials = { tokenUrl: 'https://idp.test/token', clientId: 'client', clientSecret: 'secret', username: 'user', password: 'pass' };

beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-10-21T07:28:00Z') }));
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** A client of `authority` with nothing but the credentials: every other option is the default. */
function defaultClient(authority: MemoryAuthority, password = authority.credentials.password) {
  return createAuthClient({ baseURL: authority.apiUrl, adapter: authority.adapter, auth: { ...authority.credentials, password } });
}

/** Sends one request, and lets its promise be inspected after the clock moved (it never rejects). */
function send(api: ReturnType<typeof defaultClient>, path = '/reports') {
  return api.get(path).then(
    (response) => ({ status: response.status, error: undefined }),
    (error: unknown) => ({ status: undefined, error }),
  );
}

describe('the defaults, as literal values', () => {
  test('the exported defaults are the documented values', () => {
    const { refreshMargin, ...values } = defaults;
    expect(typeof refreshMargin).toBe('function'); // its values: the next test
    expect(values).toEqual({
      clientAuthentication: 'client_secret_post',
      timeout: 10_000,
      revokeOnClear: false,
      defaultExpiresIn: 300,
      clockSkewMs: 1_000,
      allowInsecureHttp: false,
      retry: { attempts: 3, baseDelayMs: 250, maxDelayMs: 5_000, maxElapsedMs: 15_000 },
      cooldownMs: 60_000,
      leaseMs: 5_000,
      maxAccounts: 1_000,
      accountIdleMs: 3_600_000,
    });
  });

  test('the default refresh margin is 20% of the lifetime, at most 5 minutes (12 s of a minute, 5 min of an hour)', () => {
    const lifetimes = [1_000, 60_000, 1_499_995, 1_500_000, 1_500_005, 3_600_000, 86_400_000];
    expect(lifetimes.map((lifetime) => defaults.refreshMargin(lifetime))).toEqual([200, 12_000, 299_999, 300_000, 300_000, 300_000, 300_000]);
  });

  test('options resolved from the credentials alone hold the documented values', () => {
    const resolved = resolveAuthOptions(credentials);
    expect(resolved).toMatchObject({
      // Left open so that discovery can choose; the token endpoint then sends client_secret_post (tested below).
      clientAuthentication: undefined,
      timeout: 10_000,
      defaultExpiresIn: 300,
      clockSkewMs: 1_000,
      allowInsecureHttp: false,
      retry: { attempts: 3, baseDelayMs: 250, maxDelayMs: 5_000, maxElapsedMs: 15_000 },
      cooldownMs: 60_000,
      leaseMs: 5_000,
      store: undefined,
      adapter: undefined,
      scope: undefined,
      onToken: undefined,
      onError: undefined,
    });
    expect([60_000, 3_600_000].map((lifetime) => resolved.refreshMargin(lifetime))).toEqual([12_000, 300_000]);
  });

  test('the exported defaults are frozen all the way down, so no code can change every client’s defaults', () => {
    const unfrozen: string[] = [];
    const visit = (value: object, path: string): void => {
      if (!Object.isFrozen(value)) unfrozen.push(path);
      for (const [key, child] of Object.entries(value)) {
        // A function's behaviour cannot be changed by writing to it: only data is walked into.
        if (typeof child === 'object' && child !== null) visit(child as object, `${path}.${key}`);
      }
    };
    visit(defaults, 'defaults');
    expect(unfrozen).toEqual([]);
    expect(() => Object.assign(defaults.retry, { attempts: 1 })).toThrow(TypeError);
    expect(defaults.retry.attempts).toBe(3);
  });
});

describe('the defaults, by what a client without options does', () => {
  test('against an endpoint answering 503, a client makes exactly 3 token requests, 125 ms then 250 ms apart at the least jitter', async () => {
    // Jitter keeps between half and all of each wait: at its least the waits are half of 250 ms and of 500 ms.
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const authority = createMemoryAuthority();
    authority.failNext(100, 503);
    const api = defaultClient(authority);
    const settled = send(api);
    const requestsAt = async (ms: number): Promise<number> => {
      await jest.advanceTimersByTimeAsync(ms);
      return authority.stats.tokenRequests;
    };

    expect([await requestsAt(0), await requestsAt(124), await requestsAt(1), await requestsAt(249), await requestsAt(1)]).toEqual([1, 1, 2, 2, 3]);
    // The third attempt was the last: nothing more, however long one waits.
    expect(await requestsAt(60_000)).toBe(3);
    expect((await settled).error).toMatchObject({ code: 'ERR_OAUTH_TOKEN_ENDPOINT', status: 503 });
  });

  test('a Retry-After of 5 s (maxDelayMs) is waited for; one of 6 s makes the client give up at once', async () => {
    const patient = createMemoryAuthority();
    patient.failNext(1, 503, undefined, { 'Retry-After': '5' });
    const waited = send(defaultClient(patient));
    await jest.advanceTimersByTimeAsync(4_999);
    expect(patient.stats.tokenRequests).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(patient.stats.tokenRequests).toBe(2);
    expect((await waited).status).toBe(200);

    const impatient = createMemoryAuthority();
    impatient.failNext(1, 503, undefined, { 'Retry-After': '6' });
    const gaveUp = send(defaultClient(impatient));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(impatient.stats.tokenRequests).toBe(1);
    expect((await gaveUp).error).toMatchObject({ status: 503 });
  });

  test.each([
    // Two answers of 2.4 s each and two waits of 5 s: the third attempt would start at 14.8 s, inside 15 s.
    [2_400, 3],
    // 2.6 s each: it would start at 15.2 s, so no third attempt starts.
    [2_600, 2],
  ])('no retry starts 15 s (maxElapsedMs) after the first attempt: answers taking %i ms make %i token requests', async (latency, requests) => {
    const authority = createMemoryAuthority({ tokenLatencyMs: latency });
    authority.failNext(2, 503, undefined, { 'Retry-After': '5' });
    const settled = send(defaultClient(authority));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(authority.stats.tokenRequests).toBe(requests);
    expect((await settled).status).toBe(requests === 3 ? 200 : undefined);
  });

  test('a token request that gets no answer is abandoned after 10 s (timeout), then retried', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const authority = createMemoryAuthority();
    authority.failNext(1, { type: 'hang' });
    const settled = send(defaultClient(authority));
    // Abandoned at 10 s, then the first backoff (125 ms at the least jitter) before the second attempt.
    await jest.advanceTimersByTimeAsync(10_124);
    expect(authority.stats.tokenRequests).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(authority.stats.tokenRequests).toBe(2);
    expect((await settled).status).toBe(200);
  });

  test('renewal starts 20% of the lifetime before expiry, after 1 s of clock skew: 47.2 s into a 60-second token', async () => {
    // Skew: min(1 s, a quarter of 60 s) leaves 59 s; the margin is 20% of that, 11.8 s: renewal at 59 - 11.8 = 47.2 s.
    const authority = createMemoryAuthority({ expiresIn: 60 });
    const api = defaultClient(authority);
    await send(api);
    await jest.advanceTimersByTimeAsync(47_199);
    await send(api);
    expect(authority.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    await jest.advanceTimersByTimeAsync(1);
    await send(api);
    await jest.advanceTimersByTimeAsync(0);
    expect(authority.stats.grants).toEqual({ password: 1, refresh_token: 1 });
  });

  test('the margin is at most 5 minutes: a 1-hour token is renewed 5 min before its skewed expiry, at 3,299 s', async () => {
    const authority = createMemoryAuthority({ expiresIn: 3_600 });
    const api = defaultClient(authority);
    await send(api);
    await jest.advanceTimersByTimeAsync(3_298_999);
    await send(api);
    expect(authority.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    await jest.advanceTimersByTimeAsync(1);
    await send(api);
    await jest.advanceTimersByTimeAsync(0);
    expect(authority.stats.grants).toEqual({ password: 1, refresh_token: 1 });
  });

  test('an answer without expires_in (and not a JWT) is taken to live 300 s (defaultExpiresIn)', async () => {
    const api = createAuthClient({
      baseURL: 'https://api.test',
      adapter: answer(200, 'ok'),
      auth: { ...credentials, adapter: answer(200, JSON.stringify({ access_token: 'opaque', token_type: 'Bearer' })) },
    });
    await api.get('/reports');
    expect((api.tokens.current?.expiresAt ?? 0) - Date.now()).toBe(300_000);
  });

  test('a wrong password is answered from memory for 60 s (cooldownMs), then tried again', async () => {
    const authority = createMemoryAuthority();
    const api = defaultClient(authority, 'wrong');
    expect((await send(api)).error).toBeInstanceOf(UserAuthenticationError);
    await jest.advanceTimersByTimeAsync(59_999);
    expect((await send(api)).error).toBeInstanceOf(UserAuthenticationError);
    expect(authority.stats.tokenRequests).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect((await send(api)).error).toBeInstanceOf(UserAuthenticationError);
    expect(authority.stats.tokenRequests).toBe(2);
  });

  test('a shared store is asked for a lease of 5 s (leaseMs), its failure records capped at the 60 s cooldown', async () => {
    const authority = createMemoryAuthority();
    const store = new MemoryTokenStore();
    const acquire = jest.spyOn(store, 'acquire');
    const api = createAuthClient({ baseURL: authority.apiUrl, adapter: authority.adapter, auth: { ...authority.credentials, store } });
    await send(api);
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(acquire.mock.calls[0]?.[1]).toMatchObject({ leaseMs: 5_000, maxFailureMs: 60_000 });
  });

  test('the client id and secret go in the form (client_secret_post), never in an Authorization header', async () => {
    const seen: InternalAxiosRequestConfig[] = [];
    const token = answer(200, JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 3600 }));
    const api = createAuthClient({
      baseURL: 'https://api.test',
      adapter: answer(200, 'ok'),
      auth: { ...credentials, adapter: (config) => (seen.push(config), token(config)) },
    });
    await api.get('/reports');
    expect(seen).toHaveLength(1);
    const form = new URLSearchParams(String(seen[0]?.data));
    expect({ id: form.get('client_id'), secret: form.get('client_secret'), authorization: seen[0]?.headers.has('Authorization') }).toEqual({
      id: 'client',
      secret: 'secret',
      authorization: false,
    });
  });

  test('plain http is refused off loopback (allowInsecureHttp), allowed on it', () => {
    expect(() => resolveAuthOptions({ ...credentials, tokenUrl: 'http://idp.test/token' })).toThrow(ConfigurationError);
    expect(resolveAuthOptions({ ...credentials, tokenUrl: 'http://127.0.0.1:8080/token' }).tokenUrl?.href).toBe('http://127.0.0.1:8080/token');
  });

  test("the token goes to the baseURL's origin only (allowedOrigins), and each client keeps its own tokens (store)", async () => {
    const authority = createMemoryAuthority();
    const sentWith: (string | undefined)[] = [];
    const adapter: AxiosAdapter = (config) => {
      sentWith.push(config.headers.has('Authorization') ? new URL(config.url ?? '', config.baseURL).origin : undefined);
      return authority.adapter(config);
    };
    const first = createAuthClient({ baseURL: authority.apiUrl, adapter, auth: authority.credentials });
    const second = createAuthClient({ baseURL: authority.apiUrl, adapter, auth: authority.credentials });
    await send(first);
    const elsewhere = await send(first, 'https://elsewhere.test/reports');
    await send(second);

    expect(elsewhere.error).toBeDefined(); // the authority answers no other origin
    expect(elsewhere.error).not.toBeInstanceOf(OAuthBearerError);
    expect(sentWith).toEqual([new URL(authority.apiUrl).origin, undefined, new URL(authority.apiUrl).origin]);
    expect(authority.stats.grants).toEqual({ password: 2, refresh_token: 0 });
  });
});

/** An adapter that answers every request with `status` and the text `data`. */
function answer(status: number, data: string): AxiosAdapter {
  return (config) => {
    const response: AxiosResponse = { data, status, statusText: String(status), headers: { 'content-type': 'application/json' }, config };
    return Promise.resolve(response);
  };
}
