/**
 * An answer over MAX_RESPONSE_BYTES is a broken endpoint, not an unreachable one: an InvalidTokenResponseError that
 * is tried once, never a network error retried three times. Against real servers on 127.0.0.1, so the byte counting
 * is axios's own, on a real socket.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import nock from 'nock';

import { createAuthClient, ErrorCode, InvalidTokenResponseError, type OAuthBearerError, TokenNetworkError } from '../src/index.js';
import { resolveAuthOptions } from '../src/options.js';
import { tokenEndpointFor } from '../src/token-endpoint.js';
import { MAX_RESPONSE_BYTES } from '../src/limits.js';
import { isTransient } from '../src/retry.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { rejectionOf } from './helpers/endpoint-fixtures.js';

let server: AuthServer;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
beforeEach(async () => {
  server = await startAuthServer();
});
afterEach(() => server.close());
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

/** A valid token response padded to `bytes` bytes. */
function answerOf(bytes: number): string {
  const head = '{"access_token":"at-big","token_type":"Bearer","expires_in":60,"padding":"';
  return `${head}${'p'.repeat(bytes - head.length - 2)}"}`;
}

const retry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 5000 };

describe('a token response over the size limit', () => {
  test('is an InvalidTokenResponseError naming the body, with a message that says it was too large', async () => {
    server.failNext(1, 200, answerOf(MAX_RESPONSE_BYTES + 1));
    const error = await rejectionOf(tokenEndpointFor(resolveAuthOptions(server.credentials)).grant());

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ field: 'body', grant: 'password', code: ErrorCode.INVALID_TOKEN_RESPONSE });
    expect((error as Error).message).toBe(
      `password grant returned an invalid response: body is larger than ${MAX_RESPONSE_BYTES} bytes, the limit for an answer`,
    );
    expect(isTransient(error)).toBe(false);
  });

  test('is tried once, not retried: one token request, one reported failure, the caller gets the same error', async () => {
    server.failNext(3, 200, answerOf(2 * MAX_RESPONSE_BYTES));
    const errors: OAuthBearerError[] = [];
    const api = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, retry, onError: (e) => errors.push(e) } });

    const error = await rejectionOf(api.get('/reports'));

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(server.stats.tokenRequests).toBe(1);
    expect(errors).toEqual([error]);
  });

  test('an answer of exactly the limit is read and used', async () => {
    server.failNext(1, 200, answerOf(MAX_RESPONSE_BYTES));
    const tokens = await tokenEndpointFor(resolveAuthOptions(server.credentials)).grant();

    expect(tokens.accessToken).toBe('at-big');
  });
});

describe('an answer cut off by the connection (axios reports it with the same code as an oversized one)', () => {
  let cutting: Server;
  afterEach(() => new Promise<void>((resolve) => cutting.close(() => resolve())));

  test('stays a TokenNetworkError, which retries treat as transient', async () => {
    let requests = 0;
    cutting = createServer((_request, response) => {
      requests += 1;
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      response.write('{"access_');
      setTimeout(() => response.socket?.destroy(), 10);
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    const { port } = cutting.address() as AddressInfo;
    const options = resolveAuthOptions({ ...server.credentials, tokenUrl: `http://127.0.0.1:${port}/token`, retry });
    const error = await rejectionOf(tokenEndpointFor(options).grant());

    expect(error).toBeInstanceOf(TokenNetworkError);
    expect(isTransient(error)).toBe(true);
    expect(requests).toBe(1);
  });
});
