/**
 * `npm run demo`: the library's main job, shown step by step on an embedded loopback server (no credentials, no
 * network). With OAUTH_* and API_URL set it runs the same client against a real provider instead.
 *
 * It is written the way an application would use the library: an axios instance of its own, a response interceptor
 * of its own (here counting the 401s it sees), then attachAuth.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';

import { attachAuth, type SingleAccountAttachOptions, type AuthHandle, OAuthBearerError } from '../index.js';
import { type AuthServer, type AuthServerStats, startAuthServer } from '../testing/server.js';
import { createTimeline, type Timeline } from './timeline.js';

const LIFETIME_S = 3;

interface Demo {
  readonly api: AxiosInstance;
  readonly handle: AuthHandle;
  readonly tl: Timeline;
  readonly counts: { requests: number; ok: number; failed: number; seen401: number };
  /** `token #n`: tokens are credentials, so the timeline names them instead of printing them. */
  readonly name: (token: string | undefined) => string;
  /** The token each request was sent with, noted on the way out (once a request is done, its config's header is
   * the redacted one). */
  readonly sentWith: WeakMap<object, string>;
}

function createDemo(api: AxiosInstance, auth: SingleAccountAttachOptions, tl: Timeline): Demo {
  const names = new Map<string, number>();
  const name = (token: string | undefined): string => {
    if (token === undefined) return 'no token';
    if (!names.has(token)) names.set(token, names.size + 1);
    return `token #${String(names.get(token))}`;
  };
  const counts = { requests: 0, ok: 0, failed: 0, seen401: 0 };
  const sentWith = new WeakMap<object, string>();
  // Registered before attachAuth, so it runs after the library's request interceptor has set the header.
  api.interceptors.request.use((config) => {
    const header = config.headers.get('Authorization');
    if (typeof header === 'string') sentWith.set(config, header.replace(/^Bearer /, ''));
    return config;
  });
  api.interceptors.response.use(undefined, (error: unknown) => {
    if (axios.isAxiosError(error) && error.response?.status === 401) counts.seen401 += 1;
    throw error;
  });
  const handle = attachAuth(api, {
    ...auth,
    onToken: ({ tokens, source }) => {
      const lives = ((tokens.expiresAt - Date.now()) / 1000).toFixed(1);
      tl.event(`← token endpoint: ${source.replace('_', ' ')} grant → ${name(tokens.accessToken)} (valid ${lives} s)`);
    },
    onError: (error) => tl.event(tl.dim(`  onError: ${error.code}: ${error.message}`)),
  });
  return { api, handle, tl, counts, name, sentWith };
}

async function send(demo: Demo, path: string): Promise<AxiosResponse> {
  demo.counts.requests += 1;
  try {
    const response = await demo.api.get(path);
    demo.counts.ok += 1;
    return response;
  } catch (error) {
    demo.counts.failed += 1;
    throw error;
  }
}

function bearer(demo: Demo, response: AxiosResponse): string | undefined {
  return demo.sentWith.get(response.config);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function runLoopback(tl: Timeline): Promise<void> {
  const server = await startAuthServer({ expiresIn: LIFETIME_S });
  tl.line(tl.bold('axios-oauth-bearer demo'));
  tl.line(tl.dim(`loopback token endpoint + API at ${server.url}; tokens live ${LIFETIME_S} s, renewed 20% before expiry`));
  // The loopback server shares this process's clock and counts lifetimes to the millisecond: no skew allowance, so
  // the timeline's "0.5 s before it expires" is exactly what the schedule says.
  const demo = createDemo(axios.create({ baseURL: server.apiUrl }), { ...server.credentials, clockSkewMs: 0 }, tl);
  try {
    await firstGrantAndReuse(demo);
    await proactiveRenewal(demo);
    tl.step('The server revokes every token, then 50 requests go out at once');
    server.revokeAll();
    const seenBefore = demo.counts.seen401;
    const grantsBefore = server.stats.tokenRequests;
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => send(demo, `/reports/${String(i)}`)));
    tl.ok(
      `${String(demo.counts.seen401 - seenBefore)} × 401 → ${String(server.stats.tokenRequests - grantsBefore)} refresh grant → ` +
        `${String(burst.length)} replayed → ${String(burst.filter((r) => r.status === 200).length)} × 200`,
    );
    tl.step('The refresh token is revoked too: the refresh fails, the password grant takes over');
    server.revokeRefreshTokens();
    server.revokeAll();
    const fallback = await send(demo, '/reports/after-fallback');
    tl.ok(`GET /reports/after-fallback → ${String(fallback.status)} with ${demo.name(bearer(demo, fallback))}`);
    await wrongPassword(server.apiUrl, server.credentials, () => server.stats.tokenRequests, tl);
    await clientCredentials(server, tl);
    summary(demo, server.stats, tl);
  } finally {
    await server.close();
  }
}

async function firstGrantAndReuse(demo: Demo): Promise<void> {
  demo.tl.step('First request: no token yet, so one password grant');
  const first = await send(demo, '/reports/1');
  demo.tl.ok(`GET /reports/1 → ${String(first.status)} with ${demo.name(bearer(demo, first))}`);
  demo.tl.step('Five more requests reuse the cached token');
  for (let i = 2; i <= 6; i += 1) await send(demo, `/reports/${String(i)}`);
  demo.tl.ok(`5 × 200, no token request (still ${demo.name(demo.handle.tokens.current?.accessToken)})`);
}

async function proactiveRenewal(demo: Demo): Promise<void> {
  const current = demo.handle.tokens.current;
  if (current === undefined) return;
  demo.tl.step('Proactive renewal: the token is about to expire');
  await sleep(Math.max(0, current.expiresAt - Date.now() - 500));
  const during = await send(demo, '/reports/7');
  demo.tl.event(`GET /reports/7 → ${String(during.status)} with ${demo.name(bearer(demo, during))}, 0.5 s before it expires; renewal runs in the background`);
  await demo.handle.tokens.refresh(); // joins the background renewal: single flight
  const after = await send(demo, '/reports/8');
  demo.tl.ok(`GET /reports/8 → ${String(after.status)} with ${demo.name(bearer(demo, after))}; 401s so far: ${String(demo.counts.seen401)}`);
}

async function wrongPassword(
  apiUrl: string,
  credentials: SingleAccountAttachOptions,
  tokenRequests: () => number,
  tl: Timeline,
): Promise<void> {
  const before = tokenRequests();
  tl.step('A wrong password: 20 requests, one login attempt, a typed error with no secret in it');
  const api = axios.create({ baseURL: apiUrl });
  attachAuth(api, { ...credentials, password: 'not-the-password' });
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/reports/1')));
  const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const first = reasons[0];
  if (first instanceof OAuthBearerError) tl.event(`${first.name} (${first.code}): ${first.message}`);
  const attempts = tokenRequests() - before;
  tl.ok(`${String(reasons.length)} of 20 rejected with that error after ${String(attempts)} login attempt; later ones wait out the cooldown`);
}

/** The same core with another grant: the client acts for itself, and its token is revoked at the end (RFC 7009). */
async function clientCredentials(server: AuthServer, tl: Timeline): Promise<void> {
  tl.step('Client credentials: a second client acts for itself, no user; 20 requests, one grant, then revoke()');
  const { clientId, clientSecret } = server.credentials;
  const before = server.stats.tokenRequests;
  const machine = axios.create({ baseURL: server.apiUrl });
  const handle = attachAuth(machine, {
    tokenUrl: server.tokenUrl,
    clientId,
    clientSecret,
    grant: 'client_credentials',
    revocationUrl: server.revocationUrl,
    onToken: ({ source }) => tl.event(`← token endpoint: ${source.replace('_', ' ')} grant → a token for the client itself`),
  });
  const replies = await Promise.all(Array.from({ length: 20 }, () => machine.get<{ username: string }>('/jobs')));
  const subjects = [...new Set(replies.map(({ data }) => data.username))].join(', ');
  tl.ok(`20 × 200 acting for "${subjects}" after ${String(server.stats.tokenRequests - before)} token request`);
  await handle.tokens.revoke();
  tl.ok(`revoke() → the server's record of revoked tokens: ${server.revoked.map(({ kind }) => kind).join(', ')}; the client holds none`);
}

function summary(demo: Demo, stats: AuthServerStats, tl: Timeline): void {
  tl.line();
  tl.line(tl.bold('Summary (main client)'));
  const rows: [string, string | number][] = [
    ['requests sent by the application', demo.counts.requests],
    ['succeeded', demo.counts.ok],
    ['failed', demo.counts.failed],
    ['401s seen (each replayed once)', demo.counts.seen401],
    ['token requests (all clients)', stats.tokenRequests],
    ['  password grants issued', stats.grants.password],
    ['  refresh grants issued', stats.grants.refresh_token],
    ['  client credentials grants issued', stats.grants.client_credentials ?? 0],
  ];
  for (const [label, value] of rows) tl.line(`  ${label.padEnd(36)} ${String(value).padStart(5)}`);
}

/** The real-provider mode: the same client, against OAUTH_* and API_URL from the environment. */
function providerFromEnv(env: NodeJS.ProcessEnv): { auth: SingleAccountAttachOptions; apiUrl: string; path: string } | undefined {
  const { OAUTH_TOKEN_URL, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_USERNAME, OAUTH_PASSWORD, API_URL } = env;
  if (OAUTH_TOKEN_URL === undefined || API_URL === undefined) return undefined;
  const need = { OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, OAUTH_USERNAME, OAUTH_PASSWORD };
  const missing = Object.entries(need).filter(([, value]) => value === undefined || value === '').map(([key]) => key);
  if (missing.length > 0) throw new Error(`set ${missing.join(', ')} to run against a real provider`);
  return {
    auth: {
      tokenUrl: OAUTH_TOKEN_URL,
      clientId: OAUTH_CLIENT_ID ?? '',
      clientSecret: OAUTH_CLIENT_SECRET ?? '',
      username: OAUTH_USERNAME ?? '',
      password: OAUTH_PASSWORD ?? '',
      ...(env.OAUTH_SCOPE === undefined ? {} : { scope: env.OAUTH_SCOPE }),
    },
    apiUrl: API_URL,
    path: env.API_PATH ?? '/',
  };
}

async function runAgainstProvider(provider: NonNullable<ReturnType<typeof providerFromEnv>>, tl: Timeline): Promise<void> {
  tl.line(tl.bold('axios-oauth-bearer demo against a real provider'));
  tl.line(tl.dim(`token endpoint ${provider.auth.tokenUrl ?? ''}; API ${provider.apiUrl}${provider.path}`));
  const demo = createDemo(axios.create({ baseURL: provider.apiUrl }), provider.auth, tl);
  await firstGrantAndReuseAt(demo, provider.path);
  tl.step('A forced renewal (refresh grant when the provider issued a refresh token)');
  await demo.handle.tokens.refresh();
  const after = await send(demo, provider.path);
  tl.ok(`GET ${provider.path} → ${String(after.status)} with ${demo.name(bearer(demo, after))}`);
  tl.line();
  tl.line(`requests ${String(demo.counts.requests)}, succeeded ${String(demo.counts.ok)}, 401s seen ${String(demo.counts.seen401)}`);
}

async function firstGrantAndReuseAt(demo: Demo, path: string): Promise<void> {
  demo.tl.step('First request: one password grant');
  const first = await send(demo, path);
  demo.tl.ok(`GET ${path} → ${String(first.status)} with ${demo.name(bearer(demo, first))}`);
  for (let i = 0; i < 3; i += 1) await send(demo, path);
  demo.tl.ok('3 more requests reused the cached token');
}

async function main(): Promise<void> {
  const tl = createTimeline(process.stdout, process.env);
  const provider = providerFromEnv(process.env);
  await (provider === undefined ? runLoopback(tl) : runAgainstProvider(provider, tl));
}

main().catch((error: unknown) => {
  // Library errors are already redacted; anything else is printed by name and message only.
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`demo failed: ${text}`);
  process.exitCode = 1;
});
