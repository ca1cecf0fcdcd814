/**
 * A small nock world for the core tests: a token endpoint that issues numbered tokens and counts grants, and a
 * protected API that accepts only tokens the endpoint issued and has not revoked. Fixed values, no randomness.
 */
import nock from 'nock';

import type { AttachAuthOptions } from '../../src/index.js';

export const ISSUER = 'https://idp.test';
export const API = 'https://api.test';
export const OTHER = 'https://elsewhere.test';

export const credentials = {
  tokenUrl: `${ISSUER}/connect/token`,
  clientId: 'client-id',
  clientSecret: 'client-secret-value',
  username: 'user@example.com',
  password: 'pass-word-value',
} satisfies AttachAuthOptions;

export interface TokenEndpointMock {
  readonly grants: { password: number; refresh_token: number };
  /** The form bodies received, in order. */
  readonly forms: URLSearchParams[];
  /** Access tokens the API accepts. */
  readonly valid: Set<string>;
  /** Answer the next `times` token requests with this status and body. */
  failNext(status: number, body: object, times?: number): void;
  /** Make every issued access token invalid at the API. */
  revokeAll(): void;
  readonly totalGrants: number;
  /** The Authorization header of every API request, in arrival order. */
  readonly apiAuthorizations: (string | null)[];
}

export interface WorldOptions {
  expiresIn?: number;
  /** Milliseconds the token endpoint takes to answer. */
  tokenDelayMs?: number;
  refreshTokens?: boolean;
  /** Milliseconds the API takes to answer a path; the token is checked when the request arrives. */
  apiDelayMs?: (path: string) => number;
}

/**
 * Sets up the token endpoint and a protected API on `API` (any GET/POST path). Its interceptors persist and match
 * everything, so a test that needs a special answer for one path registers that mock before calling this.
 */
export function createWorld(options: WorldOptions = {}): TokenEndpointMock {
  const grants = { password: 0, refresh_token: 0 };
  const forms: URLSearchParams[] = [];
  const valid = new Set<string>();
  const failures: { status: number; body: object }[] = [];
  const seen: (string | null)[] = [];
  let counter = 0;

  nock(ISSUER)
    .persist()
    .post('/connect/token')
    .delay(options.tokenDelayMs ?? 0)
    .reply(async (req: Request) => {
      const form = new URLSearchParams(await req.text());
      forms.push(form);
      const failure = failures.shift();
      if (failure) return [failure.status, failure.body];
      const grant = form.get('grant_type');
      if (grant === 'password' || grant === 'refresh_token') grants[grant] += 1;
      counter += 1;
      valid.add(`access-token-${counter}`);
      return [
        200,
        {
          access_token: `access-token-${counter}`,
          token_type: 'bearer',
          expires_in: options.expiresIn ?? 3600,
          ...(options.refreshTokens === false ? {} : { refresh_token: `refresh-token-${counter}` }),
        },
      ];
    });

  const answer = async (req: Request): Promise<[number, object]> => {
    seen.push(req.headers.get('authorization'));
    const header = req.headers.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const reply: [number, object] = valid.has(token) ? [200, { ok: true, token }] : [401, { error: 'invalid_token' }];
    const delay = options.apiDelayMs?.(new URL(req.url).pathname) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return reply;
  };
  nock(API).persist().get(/.*/).reply(answer);
  nock(API).persist().post(/.*/).reply(answer);

  return {
    grants,
    forms,
    valid,
    failNext: (status, body, times = 1) => {
      for (let i = 0; i < times; i += 1) failures.push({ status, body });
    },
    revokeAll: () => valid.clear(),
    apiAuthorizations: seen,
    get totalGrants() {
      return grants.password + grants.refresh_token;
    },
  };
}
