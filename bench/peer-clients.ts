/**
 * The clients `npm run bench -- --peers` compares, each set up the way its own README shows (read from
 * node_modules, at the pinned devDependency versions), behind one small interface so every scenario drives them
 * alike against the same loopback server:
 * - axios-oauth-bearer (this library): `createAuthClient`, defaults.
 * - axios-auth-refresh, its README recipe: a request interceptor that sets `Authorization: Bearer <stored token>`
 *   on every request, and `createAuthRefresh(instance, refreshFn)` with its defaults; the refresh function makes the
 *   grant by hand with `axios.post` (the refresh grant when a refresh token is known, the password grant otherwise or
 *   when the refresh is refused) and sets the new header on the failed request, as the README's example does.
 * - axios-oauth-client: its `ownerCredentials` (password) and `refreshToken` grant helpers, which only fetch tokens,
 *   in the same axios-auth-refresh recipe in place of the hand-made grant. Its 2.2.0 README shows the helpers only
 *   and names no way to attach or renew tokens; axios-auth-refresh is the usual companion, so that is the setup here.
 * - @badgateway/oauth2-client: `OAuth2Client` with the password grant as `getNewToken` of its `OAuth2Fetch` wrapper,
 *   the README's way to add bearer tokens and renew them. It is fetch-based (Node's undici), not axios: measured as
 *   what it is, with a non-2xx Response counted as a failed request (fetch resolves with it; the caller must look).
 * Every request has a 30-second bound, every client its own keep-alive agent (fetch uses undici's own pool).
 */
import { readFileSync } from 'node:fs';

import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import axios, { type AxiosError } from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import { ownerCredentials, refreshToken } from 'axios-oauth-client';

import type { AuthServerCredentials, AuthServerOptions } from '../src/testing/server.js';
import type { BenchServer } from './bench-server.js';
import { authClient, describeError, keepAliveAgent } from './load.js';

const REQUEST_TIMEOUT_MS = 30_000;

/** What the caller got from one request: a 2xx, or what it caught (or, for fetch, the non-2xx Response). */
export type PeerAnswer = { readonly ok: true } | { readonly ok: false; readonly status: number | undefined; readonly caught: unknown };

/** One client of one peer, bound to a server and a set of credentials. */
export interface PeerClient {
  /** GET `target`: a path under the server's API (`/x`), or an absolute URL. Never rejects: see {@link PeerAnswer}. */
  send(target: string): Promise<PeerAnswer>;
}

/** A library under comparison. */
export interface Peer {
  readonly name: string;
  readonly version: string;
  /** How it is set up, in a few words (printed under the table). */
  readonly setup: string;
  create(server: BenchServer, credentials: AuthServerCredentials): PeerClient;
}

/** The version in a package.json, relative to this file. */
function versionOf(packageJson: string): string {
  const text = readFileSync(new URL(packageJson, import.meta.url), 'utf8');
  const version: unknown = Reflect.get(JSON.parse(text) as object, 'version');
  return typeof version === 'string' ? version : '?';
}

/** An axios call as an answer: a rejection is what the caller caught. */
async function axiosAnswer(request: Promise<unknown>): Promise<PeerAnswer> {
  try {
    await request;
    return { ok: true };
  } catch (caught) {
    return { ok: false, status: axios.isAxiosError(caught) ? caught.response?.status : undefined, caught };
  }
}

/** The token endpoint's answer, as the recipes read it. */
interface TokenBody {
  readonly access_token: string;
  readonly refresh_token: string | undefined;
}

function tokenBody(data: unknown): TokenBody {
  const field = (name: string): unknown => (data !== null && typeof data === 'object' ? Reflect.get(data, name) : undefined);
  const access = field('access_token');
  const refresh = field('refresh_token');
  if (typeof access !== 'string') throw new Error('the token endpoint answered without access_token');
  return { access_token: access, refresh_token: typeof refresh === 'string' ? refresh : undefined };
}

/** A grant as a recipe makes it: the refresh grant with `refreshToken`, the password grant without. */
type Grant = (refreshToken: string | undefined) => Promise<TokenBody>;

/**
 * axios-auth-refresh's README recipe around `grant`: the token lives in a variable (the README's localStorage), a
 * request interceptor puts it on every request (once one is known), and createAuthRefresh with its defaults calls
 * the refresh function on a 401.
 */
function authRefreshRecipe(server: BenchServer, grant: Grant): PeerClient {
  let access: string | undefined;
  let refresh: string | undefined;
  const api = axios.create({ baseURL: server.apiUrl, httpAgent: keepAliveAgent(), timeout: REQUEST_TIMEOUT_MS });
  api.interceptors.request.use((request) => {
    if (access !== undefined) request.headers.set('Authorization', `Bearer ${access}`);
    return request;
  });
  createAuthRefresh(api, async (failedRequest: AxiosError) => {
    const tokens = await grant(refresh);
    access = tokens.access_token;
    refresh = tokens.refresh_token ?? refresh;
    failedRequest.response?.config.headers.set('Authorization', `Bearer ${access}`);
  });
  return { send: (target) => axiosAnswer(api.get(target)) };
}

/** The grant by hand, as axios-auth-refresh's README does it: `axios.post` of the form to the token URL. */
function grantByHand(credentials: AuthServerCredentials): Grant {
  const { tokenUrl, clientId, clientSecret, username, password } = credentials;
  const post = async (form: Record<string, string>): Promise<TokenBody> =>
    tokenBody((await axios.post<unknown>(tokenUrl, new URLSearchParams(form), { timeout: REQUEST_TIMEOUT_MS })).data);
  const passwordGrant = (): Promise<TokenBody> =>
    post({ grant_type: 'password', username, password, client_id: clientId, client_secret: clientSecret });
  return async (refreshToken) => {
    if (refreshToken === undefined) return passwordGrant();
    try {
      return await post({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, client_secret: clientSecret });
    } catch {
      return passwordGrant();
    }
  };
}

/** The same with axios-oauth-client's helpers (typed `any` upstream: pinned to what they do here). */
function grantWithOAuthClient(credentials: AuthServerCredentials): Grant {
  const { tokenUrl, clientId, clientSecret, username, password } = credentials;
  const bare = axios.create({ timeout: REQUEST_TIMEOUT_MS });
  const byPassword: (username: string, password: string) => Promise<unknown> = ownerCredentials(bare, tokenUrl, clientId, clientSecret);
  const byRefresh: (refreshToken: string) => Promise<unknown> = refreshToken(bare, tokenUrl, clientId, clientSecret);
  return async (refresh) => {
    if (refresh === undefined) return tokenBody(await byPassword(username, password));
    try {
      return tokenBody(await byRefresh(refresh));
    } catch {
      return tokenBody(await byPassword(username, password));
    }
  };
}

/** A bounded fetch: the wrapper's own token requests get the same 30-second limit as the API requests. */
const boundedFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

function badgatewayClient(server: BenchServer, credentials: AuthServerCredentials): PeerClient {
  const { tokenUrl, clientId, clientSecret, username, password } = credentials;
  const client = new OAuth2Client({ server: new URL(tokenUrl).origin, tokenEndpoint: tokenUrl, clientId, clientSecret, fetch: boundedFetch });
  const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.password({ username, password }) });
  return {
    send: async (target) => {
      const url = target.startsWith('/') ? `${server.apiUrl}${target}` : target;
      try {
        const response = await wrapper.fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        // Read the body, as a caller would (and as axios does): an unread body holds its connection.
        await response.arrayBuffer();
        return response.ok ? { ok: true } : { ok: false, status: response.status, caught: response };
      } catch (caught) {
        return { ok: false, status: undefined, caught };
      }
    },
  };
}

/**
 * Longer than any one scenario lasts, and under the two minutes from which OAuth2Fetch schedules a background
 * refresh timer (one minute before expiry): a longer token would leave a timer that holds the process for an hour.
 */
export const PEER_LONG_LIVED: AuthServerOptions = { expiresIn: 100 };

/** A scenario a peer could not run: the reason, in place of numbers. */
export interface NotRun {
  readonly peer: string;
  readonly notRun: string;
}

/** A failed request as the pools and bursts count it: the status or what was caught, never its text. */
export class PeerFailure extends Error {
  override readonly name = 'PeerFailure';
  readonly code: string;
  constructor(answer: Extract<PeerAnswer, { ok: false }>) {
    const code = answer.status === undefined ? describeError(answer.caught) : `HTTP_${answer.status}`;
    super(code);
    this.code = code;
  }
}

/** Sends one request and throws a {@link PeerFailure} unless a 2xx reached the caller. */
export async function succeeds(client: PeerClient, target: string): Promise<void> {
  const answer = await client.send(target);
  if (!answer.ok) throw new PeerFailure(answer);
}

/** Runs one peer's part of a scenario; a throw becomes a {@link NotRun} with its message. */
export async function attempt<T>(peer: Peer, work: () => Promise<T>): Promise<T | NotRun> {
  try {
    return await work();
  } catch (error) {
    return { peer: peer.name, notRun: error instanceof Error ? error.message : String(error) };
  }
}

/** This library first, then the peers in the order the README names them. */
export const PEERS: readonly Peer[] = [
  {
    name: 'axios-oauth-bearer',
    version: versionOf('../package.json'),
    setup: 'createAuthClient, defaults',
    create: (server, credentials) => {
      const api = authClient(server, keepAliveAgent(), credentials);
      return { send: (target) => axiosAnswer(api.get(target)) };
    },
  },
  {
    name: 'axios-auth-refresh',
    version: versionOf('../node_modules/axios-auth-refresh/package.json'),
    setup: 'README recipe: createAuthRefresh(instance, refreshFn) with its defaults, the grant by hand with axios.post',
    create: (server, credentials) => authRefreshRecipe(server, grantByHand(credentials)),
  },
  {
    name: 'axios-oauth-client',
    version: versionOf('../node_modules/axios-oauth-client/package.json'),
    setup: 'ownerCredentials / refreshToken helpers inside the same axios-auth-refresh recipe',
    create: (server, credentials) => authRefreshRecipe(server, grantWithOAuthClient(credentials)),
  },
  {
    name: '@badgateway/oauth2-client',
    version: versionOf('../node_modules/@badgateway/oauth2-client/package.json'),
    setup: 'OAuth2Fetch (fetch, not axios) with client.password() as getNewToken, client_secret_basic_interop (its default)',
    create: badgatewayClient,
  },
];
