/**
 * The 1.0 surface: what each entry point exports at run time (types are pinned by the API reports in api/, checked by
 * `npm run check:api`), the token manager users hold (no 401 plumbing, nothing to change), the frozen defaults, and
 * the one shape of ERR_OAUTH_TOKEN_STORE.
 */
import { inspect } from 'node:util';

import axios from 'axios';
import nock from 'nock';

import * as main from '../src/index.js';
import * as file from '../src/file.js';
import * as opentelemetry from '../src/opentelemetry.js';
import * as redis from '../src/redis.js';
import * as testing from '../src/testing/index.js';
import * as testingServer from '../src/testing/server.js';
import {
  attachAuth,
  ConfigurationError,
  createAuthClient,
  createTokenEndpoint,
  defaults,
  ErrorCode,
  MemoryTokenStore,
  type OAuthBearerError,
  TokenStoreError,
  type TokenSet,
  type TokenStore,
} from '../src/index.js';
import { waitFor } from './helpers/waiting.js';
import { API, createWorld, credentials } from './helpers/world.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.restore());

describe('run-time exports', () => {
  // A change here is a change to the public surface: it must be deliberate, and it shows in review.
  test('the main entry', () => {
    expect(Object.keys(main).sort()).toEqual([
      'ConfigurationError',
      'CredentialError',
      'ErrorCode',
      'GrantRejectedError',
      'InvalidClientError',
      'InvalidRequestError',
      'InvalidTokenResponseError',
      'MAX_ENDPOINT_TEXT_LENGTH',
      'MAX_RESPONSE_BYTES',
      'MAX_TOKEN_LENGTH',
      'MemoryTokenStore',
      'OAuthBearerError',
      'OriginNotAllowedError',
      'RefreshTokenRejectedError',
      'ReplayNotPossibleError',
      'TokenEndpointError',
      'TokenNetworkError',
      'TokenRequestError',
      'TokenStoreError',
      'UserAuthenticationError',
      'attachAuth',
      'channels',
      'createAuthClient',
      'createTokenEndpoint',
      'defaults',
      'parseTokenSet',
      'serializeTokenSet',
      'storeKey',
    ]);
  });

  test('axios-oauth-bearer/redis, and its TokenStoreError is the main entry\'s', () => {
    expect(Object.keys(redis).sort()).toEqual([
      'DEFAULT_KEY_PREFIX',
      'ErrorCode',
      'RedisTokenStore',
      'TokenStoreError',
      'failureKeyFor',
      'isLeasingStore',
      'leaseKeyFor',
      'redisTokenStoreDefaults',
      'storeKey',
    ]);
    expect(redis.TokenStoreError).toBe(main.TokenStoreError);
    expect(redis.ErrorCode).toBe(main.ErrorCode);
    expect(Object.isFrozen(redis.redisTokenStoreDefaults)).toBe(true);
  });

  test('axios-oauth-bearer/opentelemetry', () => {
    expect(Object.keys(opentelemetry).sort()).toEqual(['INSTRUMENTATION_NAME', 'instrumentOpenTelemetry']);
  });

  test('axios-oauth-bearer/file, and its TokenStoreError is the main entry\'s', () => {
    expect(Object.keys(file).sort()).toEqual([
      'DEFAULT_KEY_PREFIX',
      'ErrorCode',
      'FileTokenStore',
      'TokenStoreError',
      'defaultFileStoreDirectory',
      'failureKeyFor',
      'fileTokenStoreDefaults',
      'isLeasingStore',
      'leaseKeyFor',
      'storeKey',
    ]);
    expect(file.TokenStoreError).toBe(main.TokenStoreError);
    expect(Object.isFrozen(file.fileTokenStoreDefaults)).toBe(true);
  });

  test('axios-oauth-bearer/testing and /testing/server', () => {
    expect(Object.keys(testing).sort()).toEqual(['createMemoryAuthority', 'fixtureDefaults', 'mockProtectedApi', 'mockTokenEndpoint', 'startAuthServer']);
    expect(Object.keys(testingServer).sort()).toEqual(['fixtureDefaults', 'startAuthServer']);
  });
});

describe('the token manager users hold', () => {
  test('has exactly the public members, none of the 401 plumbing, and nothing to change', () => {
    const api = createAuthClient({ baseURL: API, auth: credentials });
    const { tokens } = api;
    const prototype: object = Object.getPrototypeOf(tokens) as object;
    // Every own key, symbols and non-enumerable ones included, of the view and its prototype; nothing inherited else.
    expect(Reflect.ownKeys(prototype).map(String).sort()).toEqual(['clear', 'clearCooldown', 'constructor', 'current', 'getAccessToken', 'refresh', 'renewing', 'revoke']);
    expect(Reflect.ownKeys(tokens)).toEqual([]);
    expect(Object.getPrototypeOf(prototype)).toBe(Object.prototype);
    expect(Object.isFrozen(prototype)).toBe(true);
    expect(inspect(tokens, { showHidden: true, depth: null })).not.toMatch(/Cache|replay|attemptSeq/);
    for (const internal of ['attemptSeq', 'peekAccessToken', 'renewAfterRejection', 'adoptedFromStore', 'supersedes', 'failureSince', 'knownSecrets', 'replay']) {
      expect(internal in tokens).toBe(false);
    }
    expect(Object.isFrozen(tokens)).toBe(true);
    expect(() => Object.assign(tokens, { getAccessToken: () => Promise.resolve('forged') })).toThrow(TypeError);
    expect(inspect(tokens)).toBe('TokenManager {}');
    expect(inspect(api, { depth: 1 })).toContain('tokens: TokenManager {}');
    // Nor can the instance's manager be swapped for another.
    expect(() => Object.assign(api, { tokens: {} })).toThrow(TypeError);
    expect(api.tokens).toBe(tokens);
    const handle = attachAuth(axios.create({ baseURL: API }), credentials);
    expect(Object.isFrozen(handle)).toBe(true);
    expect(inspect(handle.tokens)).toBe('TokenManager {}');
  });

  test('drives the client: getAccessToken, current, refresh, clear', async () => {
    const world = createWorld();
    const api = createAuthClient({ baseURL: API, auth: credentials });
    expect(api.tokens.current).toBeUndefined();
    expect(api.tokens.renewing).toBe(false);
    const pending = api.tokens.getAccessToken();
    expect(api.tokens.renewing).toBe(true);
    await expect(pending).resolves.toBe('access-token-1');
    expect(api.tokens.current?.accessToken).toBe('access-token-1');
    await api.get('/a');
    expect(world.apiAuthorizations).toEqual(['Bearer access-token-1']);
    await expect(api.tokens.refresh()).resolves.toMatchObject({ accessToken: 'access-token-2' });
    expect(world.grants).toEqual({ password: 1, refresh_token: 1 });
    api.tokens.clear();
    expect(api.tokens.current).toBeUndefined();
    await api.get('/b');
    expect(world.grants).toEqual({ password: 2, refresh_token: 1 });
  });
});

describe('defaults', () => {
  test('are frozen all the way down: no code can change every client\'s policy', () => {
    expect(Object.isFrozen(defaults)).toBe(true);
    expect(Object.isFrozen(defaults.retry)).toBe(true);
    expect(() => {
      (defaults.retry as { attempts: number }).attempts = 1;
    }).toThrow(TypeError);
    expect(() => {
      (defaults as { cooldownMs: number }).cooldownMs = 0;
    }).toThrow(TypeError);
    expect(Object.isFrozen(defaults.refreshMargin)).toBe(true);
    expect(defaults.retry.attempts).toBe(3);
    expect(defaults.cooldownMs).toBe(60_000);
  });

  test('so are ErrorCode and the fixtures\' defaults', () => {
    expect(Object.isFrozen(ErrorCode)).toBe(true);
    expect(() => {
      (ErrorCode as { TOKEN_STORE: string }).TOKEN_STORE = 'HIJACKED';
    }).toThrow(TypeError);
    expect(new TokenStoreError('get', 'failed', 'k', 'x').code).toBe('ERR_OAUTH_TOKEN_STORE');
    expect(Object.isFrozen(testing.fixtureDefaults)).toBe(true);
  });
});

describe('createTokenEndpoint', () => {
  test('takes the auth options as written, validates them, and exposes only its five methods', async () => {
    createWorld();
    expect(() => createTokenEndpoint({ ...credentials, tokenUrl: 'http://idp.test/token' })).toThrow(ConfigurationError);
    const endpoint = createTokenEndpoint(credentials);
    expect(Object.keys(endpoint).sort()).toEqual(['grant', 'passwordGrant', 'refreshGrant', 'revoke', 'tokenUrl']);
    await expect(endpoint.tokenUrl()).resolves.toBe(credentials.tokenUrl);
    const tokens = await endpoint.passwordGrant();
    expect(tokens.accessToken).toBe('access-token-1');
  });

  test('names its own options in errors, reads only its own options, and takes URL objects', async () => {
    const world = createWorld();
    expect(() => createTokenEndpoint({ ...credentials, clientId: '' })).toThrow('Invalid option `createTokenEndpoint.clientId`');
    // A whole `auth` object: the store, hooks and lease options are not the endpoint's, so not checked either.
    const auth = { ...credentials, store: 'not a store', leaseMs: -1, onError: 42 } as unknown as typeof credentials;
    const endpoint = createTokenEndpoint({ ...auth, tokenUrl: new URL(credentials.tokenUrl) });
    await expect(endpoint.passwordGrant()).resolves.toMatchObject({ accessToken: 'access-token-1' });
    expect(world.forms).toHaveLength(1);
  });

  test('refreshGrant refuses a missing or non-string refresh token before sending anything', async () => {
    const world = createWorld();
    const endpoint = createTokenEndpoint(credentials);
    const refresh = endpoint.refreshGrant as (token: unknown) => Promise<unknown>;
    for (const bad of [undefined, null, 42, '']) await expect(refresh(bad)).rejects.toThrow(ConfigurationError);
    expect(world.forms).toHaveLength(0);
  });
});

describe('ERR_OAUTH_TOKEN_STORE has one shape: TokenStoreError', () => {
  /** A store whose every method throws, so each background operation fails. */
  class ThrowingStore extends MemoryTokenStore {
    override delete(): never {
      throw new Error('delete refused');
    }
  }

  test('a failed background delete (clear) is a TokenStoreError naming the operation and the key', async () => {
    createWorld();
    const errors: OAuthBearerError[] = [];
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, store: new ThrowingStore(), onError: (error) => errors.push(error) } });
    await api.get('/a');
    api.tokens.clear();
    // The delete runs in the background: wait for its report (bounded), then a little longer for any second one.
    await waitFor('the store failure report', () => errors.length > 0, 5_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toMatchObject({ code: ErrorCode.TOKEN_STORE, operation: 'delete', reason: 'failed' });
    expect((error as TokenStoreError).key).toMatch(/^axios-oauth-bearer:tokens:\{[0-9a-f]+\}$/);
    expect(error?.message).toBe('Token store delete failed: the store threw (Error)');
  });

  test('a stored value that cannot even be serialized is a TokenStoreError too, and counts as no token', async () => {
    const world = createWorld();
    const errors: OAuthBearerError[] = [];
    // A store of the user's own that hands back something JSON cannot hold (a BigInt in `extra`).
    const garbage = { accessToken: 'stored-token', expiresAt: Date.now() + 60_000, extra: { n: 10n } } as unknown as TokenSet;
    const store: TokenStore = { get: () => garbage, set: () => undefined, delete: () => undefined };
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, store, onError: (error) => errors.push(error) } });
    await api.get('/a');
    expect(world.apiAuthorizations).toEqual(['Bearer access-token-1']);
    expect(errors.map((error) => (error instanceof TokenStoreError ? [error.code, error.operation, error.reason] : [error.code]))).toContainEqual([
      ErrorCode.TOKEN_STORE,
      'get',
      'invalid-value',
    ]);
    expect(errors.every((error) => error instanceof TokenStoreError)).toBe(true);
  });

  test("a store's own thrown TokenStoreError is reported rebuilt: its reason kept, its message and cause (a token) dropped", async () => {
    createWorld();
    const errors: OAuthBearerError[] = [];
    class LeakyStore extends MemoryTokenStore {
      override delete(key: string): never {
        throw new TokenStoreError('delete', 'timeout', key, 'DEL failed for access-token-1', { cause: new Error('row (access_token)=(access-token-1)') });
      }
    }
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, store: new LeakyStore(), onError: (error) => errors.push(error) } });
    await api.get('/a');
    api.tokens.clear();
    await waitFor('the store failure report', () => errors.length > 0, 5_000, 10);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ operation: 'delete', reason: 'timeout', message: 'Token store delete failed: the store threw (TokenStoreError)' });
    expect(inspect(errors[0], { depth: null, showHidden: true }) + JSON.stringify(errors[0])).not.toContain('access-token-1');
  });

  test('a store that throws a value nothing can look at (a revoked Proxy) is reported, and the process goes on', async () => {
    createWorld();
    const errors: OAuthBearerError[] = [];
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    class HostileStore extends MemoryTokenStore {
      override delete(): never {
        throw proxy; // eslint-disable-line @typescript-eslint/only-throw-error -- the point of the test
      }
    }
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, store: new HostileStore(), onError: (error) => errors.push(error) } });
    await api.get('/a');
    api.tokens.clear();
    await waitFor('the store failure report', () => errors.length > 0, 5_000, 10);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ operation: 'delete', reason: 'failed', message: 'Token store delete failed: the store threw (unknown)' });
  });

  /** A store whose key cannot be derived: its binding secret throws. */
  class KeylessStore extends MemoryTokenStore {
    override bindingSecret(): never {
      throw new RangeError('no secret today');
    }
  }

  test('a store key that cannot be derived is a TokenStoreError of operation key, with no key; the client goes on alone', async () => {
    const world = createWorld();
    const errors: OAuthBearerError[] = [];
    const api = createAuthClient({ baseURL: API, auth: { ...credentials, store: new KeylessStore(), onError: (error) => errors.push(error) } });
    await api.get('/a');
    expect(world.apiAuthorizations).toEqual(['Bearer access-token-1']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TokenStoreError);
    expect(errors[0]).toMatchObject({ code: ErrorCode.TOKEN_STORE, operation: 'key', reason: 'failed', key: undefined });
    expect(errors[0]?.message).toBe('Token store key failed: the store threw (RangeError); continuing without the store');
  });
});
