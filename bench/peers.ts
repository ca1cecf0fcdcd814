/**
 * `npm run bench -- --peers`: this library and the libraries people use instead (./peer-clients.ts), in the same
 * run, the same scenarios and against the same loopback authorization server (through `launch`, like scenarios
 * 1-7), one client after the other, so the README's comparison can be reproduced from the repository:
 * - (a) storm: `requests` concurrent requests meet a token that expired (the server's lifetime ran out: a sleep on
 *   the real clock, a move of the virtual one in the quick run) or was revoked (the server refuses it, the client
 *   cannot know): requests ok and failed, token calls, 401s served.
 * - (b) origin: a request to an absolute URL on another loopback origin (a second server that records what it gets):
 *   does the bearer token reach it?
 * - (c) secrets: a wrong password, and a token endpoint that answers 500: do the password or the client secret (raw,
 *   or as the Basic credentials) appear in `util.inspect(error, { depth: null })` or `JSON.stringify(error)` of what
 *   the caller got?
 * - (d) steady state: `workers` loops for `durationMs` over tokens of `expiresIn` seconds: 401s served per expiry.
 * Every loop is bounded in count and time (bursts by count, pools by count and time, every request by 30 s). A
 * scenario that throws for a peer (its warm-up failed, say) is recorded with the reason, never as a number.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';

import type { AuthServerCredentials, AuthServerOptions } from '../src/testing/server.js';
import type { BenchServer, LaunchServer } from './bench-server.js';
import { burst, type Counts, counted, describeError, phases, pool, type Progress, sleep, withServer } from './load.js';
import { type Peer, type PeerAnswer, type PeerClient, PEERS } from './peer-clients.js';
import { type ClockMode, realNow, withVirtualClock } from './virtual-clock.js';

/** The sizes of one comparison. */
export interface PeerSizes {
  /** (a): `expiresIn` is the lifetime in the expired variant (seconds; minutes on the virtual clock). */
  readonly storm: { readonly requests: number; readonly expiresIn: number; readonly clock: ClockMode };
  /** (d) */
  readonly steady: { readonly expiresIn: number; readonly workers: number; readonly durationMs: number };
}

/** The README's sizes: the storm of its claims, scenario 4's steady state. */
export const PEERS_FULL: PeerSizes = {
  storm: { requests: 500, expiresIn: 1, clock: 'real' },
  steady: { expiresIn: 1, workers: 20, durationMs: 5_000 },
};

/** Small sizes for a look at the harness (`--peers --quick`) and the Jest test; the expired storm on the virtual clock. */
export const PEERS_QUICK: PeerSizes = {
  storm: { requests: 50, expiresIn: 100, clock: 'virtual' },
  steady: { expiresIn: 1, workers: 5, durationMs: 2_000 },
};

/**
 * Longer than any one scenario lasts, and under the two minutes from which OAuth2Fetch schedules a background
 * refresh timer (one minute before expiry): a longer token would leave a timer that holds the process for an hour.
 */
const LONG_LIVED: AuthServerOptions = { expiresIn: 100 };
const PAST_EXPIRY_MS = 25;
/** (c): credentials found nowhere else, so finding one in an error's text can only mean the error carries it. */
const CLIENT_SECRET = 'bench-client-secret-5d7e21';
const RIGHT_PASSWORD = 'bench-right-password-0b64';
const WRONG_PASSWORD = 'bench-wrong-password-7f3a9c';
/** (c): more 500s than any client's retries ask for. */
const FAILING_ANSWERS = 20;

/** A scenario a peer could not run: the reason, in place of numbers. */
export interface NotRun {
  readonly peer: string;
  readonly notRun: string;
}

export type StormVariant = 'expired' | 'revoked';
export interface PeerStormRow extends Counts {
  readonly peer: string;
  readonly variant: StormVariant;
}

export interface PeerOriginRow {
  readonly peer: string;
  /** An `Authorization: Bearer …` header arrived at the other origin. */
  readonly tokenSent: boolean;
  /** What the request itself did (the other origin answers 200 to anything). */
  readonly answered: boolean;
}

export type SecretsVariant = 'wrong password' | 'token endpoint 500';
/** Which secrets a serialization of the caller's error contains. */
export interface Leak {
  readonly password: boolean;
  readonly clientSecret: boolean;
}
export interface PeerSecretsRow {
  readonly peer: string;
  readonly variant: SecretsVariant;
  /** The request failed (as it must); when it did not, there is no error to look at. */
  readonly failed: boolean;
  /** What the caller got (its name and code, never its text). */
  readonly error: string | undefined;
  readonly inspect: Leak;
  /** Undefined when JSON.stringify threw (see `jsonError`). */
  readonly json: Leak | undefined;
  readonly jsonError: string | undefined;
}

export interface PeerSteadyRow extends Counts {
  readonly peer: string;
  /** Token lifetimes the run spanned: durationMs / (expiresIn * 1000). */
  readonly expiries: number;
}

/** Everything `--peers` measured, ready for JSON. */
export interface PeersResult {
  readonly params: PeerSizes;
  readonly peers: readonly { readonly name: string; readonly version: string; readonly setup: string }[];
  readonly storm: readonly (PeerStormRow | NotRun)[];
  readonly origin: readonly (PeerOriginRow | NotRun)[];
  readonly secrets: readonly (PeerSecretsRow | NotRun)[];
  readonly steady: readonly (PeerSteadyRow | NotRun)[];
}

/** The phases of a comparison, in run order (progress lines `[n/5]`). */
export const PEER_TITLES = ['(a) storm, token expired', '(a) storm, token revoked', '(b) another origin', '(c) secrets in errors', '(d) steady state'] as const;

/** Gives each phase its progress callback; `index` is 0-based into {@link PEER_TITLES}. */
export type PeerReporter = (index: number) => Progress | undefined;

/** A failed request as the pools and bursts count it: the status or what was caught, never its text. */
class PeerFailure extends Error {
  override readonly name = 'PeerFailure';
  readonly code: string;
  constructor(answer: Extract<PeerAnswer, { ok: false }>) {
    const code = answer.status === undefined ? describeError(answer.caught) : `HTTP_${answer.status}`;
    super(code);
    this.code = code;
  }
}

async function succeeds(client: PeerClient, target: string): Promise<void> {
  const answer = await client.send(target);
  if (!answer.ok) throw new PeerFailure(answer);
}

/** Runs one peer's part of a scenario; a throw becomes a {@link NotRun} with its message. */
async function attempt<T>(peer: Peer, work: () => Promise<T>): Promise<T | NotRun> {
  try {
    return await work();
  } catch (error) {
    return { peer: peer.name, notRun: error instanceof Error ? error.message : String(error) };
  }
}

/** (a), both variants. */
export async function peerStorm(launch: LaunchServer, sizes: PeerSizes['storm'], variants: readonly StormVariant[], reporter: PeerReporter = () => undefined): Promise<(PeerStormRow | NotRun)[]> {
  const rows: (PeerStormRow | NotRun)[] = [];
  for (const variant of variants) {
    const next = phases(reporter(variant === 'expired' ? 0 : 1), sizes.requests * PEERS.length);
    const options = variant === 'expired' ? { expiresIn: sizes.expiresIn } : LONG_LIVED;
    await withVirtualClock(() =>
      withServer(launch, options, async (server) => {
        for (const peer of PEERS) {
          rows.push(
            await attempt(peer, async () => {
              const client = peer.create(server, server.credentials);
              await succeeds(client, '/warm-up');
              if (variant === 'expired') await expire(server, sizes);
              const step = next(sizes.requests);
              const counts = await counted(server, async () => {
                if (variant === 'revoked') await server.revokeAll();
                return burst(sizes.requests, (i) => succeeds(client, `/storm/${i}`), step);
              });
              return { peer: peer.name, variant, ...counts };
            }),
          );
        }
      }),
    );
  }
  return rows;
}

/** Lets the token from the warm-up expire on the server (and so for every client that dates it). */
async function expire(server: BenchServer, sizes: PeerSizes['storm']): Promise<void> {
  const lifetimeMs = sizes.expiresIn * 1000;
  // The server dated the expiry from when it answered, which is before the answer arrived here.
  if (sizes.clock === 'virtual') await server.advanceClock(lifetimeMs + PAST_EXPIRY_MS);
  else await sleep(lifetimeMs + PAST_EXPIRY_MS);
}

/** A second loopback origin that answers 200 to anything and remembers the Authorization header of each path. */
async function startOtherOrigin(): Promise<{ url: string; authorization: (path: string) => string | undefined; close: () => Promise<void> }> {
  const seen = new Map<string, string | undefined>();
  const server: Server = createServer((request, response) => {
    seen.set(request.url ?? '', request.headers.authorization);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authorization: (path) => seen.get(path),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** (b) */
export async function peerOrigin(launch: LaunchServer, progress?: Progress): Promise<(PeerOriginRow | NotRun)[]> {
  const other = await startOtherOrigin();
  try {
    return await withServer(launch, LONG_LIVED, async (server) => {
      const rows: (PeerOriginRow | NotRun)[] = [];
      for (const [index, peer] of PEERS.entries()) {
        rows.push(
          await attempt(peer, async () => {
            const client = peer.create(server, server.credentials);
            await succeeds(client, '/warm-up');
            const path = `/collect/${index}`;
            const answer = await client.send(`${other.url}${path}`);
            const header = other.authorization(path) ?? '';
            return { peer: peer.name, tokenSent: /^Bearer [^\s]+/.test(header) && header !== 'Bearer undefined', answered: answer.ok };
          }),
        );
        progress?.(index + 1, PEERS.length);
      }
      return rows;
    });
  } finally {
    await other.close();
  }
}

/** Which of the secrets a text contains: each raw, the client secret also inside Basic credentials. */
function leakIn(text: string, credentials: AuthServerCredentials, password: string): Leak {
  const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
  return { password: text.includes(password), clientSecret: text.includes(credentials.clientSecret) || text.includes(basic) };
}

/** JSON.stringify's text; '' where it gives undefined (a caught undefined or function), whatever its type says. */
function jsonText(value: unknown): string {
  const text: unknown = JSON.stringify(value);
  return typeof text === 'string' ? text : '';
}

/** What the caller got, by kind: describeError, with the class for errors that keep the name `Error`. */
function describeCaught(caught: unknown): string {
  if (caught instanceof Response) return `Response (HTTP ${caught.status})`;
  const described = describeError(caught);
  return described === 'Error' && caught instanceof Error ? caught.constructor.name : described;
}

/** (c) */
export async function peerSecrets(launch: LaunchServer, progress?: Progress): Promise<(PeerSecretsRow | NotRun)[]> {
  const rows: (PeerSecretsRow | NotRun)[] = [];
  const variants: readonly SecretsVariant[] = ['wrong password', 'token endpoint 500'];
  let done = 0;
  for (const variant of variants) {
    await withServer(launch, { ...LONG_LIVED, clientSecret: CLIENT_SECRET, password: RIGHT_PASSWORD }, async (server) => {
      const password = variant === 'wrong password' ? WRONG_PASSWORD : RIGHT_PASSWORD;
      const credentials = { ...server.credentials, password };
      for (const peer of PEERS) {
        rows.push(
          await attempt(peer, async () => {
            if (variant === 'token endpoint 500') await server.failNext(FAILING_ANSWERS, 500);
            const answer = await peer.create(server, credentials).send('/secrets');
            if (answer.ok) return { peer: peer.name, variant, failed: false, error: undefined, inspect: { password: false, clientSecret: false }, json: undefined, jsonError: undefined };
            let json: Leak | undefined;
            let jsonError: string | undefined;
            try {
              json = leakIn(jsonText(answer.caught), credentials, password);
            } catch (error) {
              jsonError = describeError(error);
            }
            const inspected = leakIn(inspect(answer.caught, { depth: null }), credentials, password);
            return { peer: peer.name, variant, failed: true, error: describeCaught(answer.caught), inspect: inspected, json, jsonError };
          }),
        );
        done += 1;
        progress?.(done, variants.length * PEERS.length);
      }
    });
  }
  return rows;
}

/** (d) */
export async function peerSteady(launch: LaunchServer, sizes: PeerSizes['steady'], progress?: Progress): Promise<(PeerSteadyRow | NotRun)[]> {
  const total = sizes.durationMs * PEERS.length;
  return withServer(launch, { expiresIn: sizes.expiresIn }, async (server) => {
    const rows: (PeerSteadyRow | NotRun)[] = [];
    for (const [index, peer] of PEERS.entries()) {
      rows.push(
        await attempt(peer, async () => {
          const client = peer.create(server, server.credentials);
          await succeeds(client, '/warm-up');
          const started = realNow();
          const limits = { concurrency: sizes.workers, maxRequests: 10_000_000, maxMs: sizes.durationMs };
          const counts = await counted(server, () =>
            pool(limits, (i) => succeeds(client, `/steady/${i}`), () => progress?.(Math.min(index * sizes.durationMs + Math.round(realNow() - started), total), total)),
          );
          return { peer: peer.name, ...counts, expiries: sizes.durationMs / (sizes.expiresIn * 1000) };
        }),
      );
    }
    return rows;
  });
}

/** The whole comparison: each scenario for this library and every peer, one client at a time. */
export async function runPeers(launch: LaunchServer, sizes: PeerSizes, reporter: PeerReporter = () => undefined): Promise<PeersResult> {
  return {
    params: sizes,
    peers: PEERS.map(({ name, version, setup }) => ({ name, version, setup })),
    storm: await peerStorm(launch, sizes.storm, ['expired', 'revoked'], reporter),
    origin: await peerOrigin(launch, reporter(2)),
    secrets: await peerSecrets(launch, reporter(3)),
    steady: await peerSteady(launch, sizes.steady, reporter(4)),
  };
}
