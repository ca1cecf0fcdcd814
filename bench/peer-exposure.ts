/**
 * What leaves a client besides its requests, scenarios (b) and (c) of `npm run bench -- --peers` (./peers.ts):
 * - (b) origin: a request to an absolute URL on another loopback origin (a second server that answers 200 to anything
 *   and records the Authorization header it got): does the bearer token reach it?
 * - (c) secrets: a wrong password, and a token endpoint that answers 500: do the password or the client secret (raw,
 *   or inside the Basic credentials) appear in `util.inspect(error, { depth: null })` or `JSON.stringify(error)` of
 *   what the caller got (the rejection; for fetch, the non-2xx Response)?
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';

import type { AuthServerCredentials } from '../src/testing/server.js';
import type { LaunchServer } from './bench-server.js';
import { describeError, type Progress, withServer } from './load.js';
import { attempt, type NotRun, PEER_LONG_LIVED, PEERS, succeeds } from './peer-clients.js';

/** (c): credentials found nowhere else, so finding one in an error's text can only mean the error carries it. */
const CLIENT_SECRET = 'bench-client-secret-5d7e21';
const RIGHT_PASSWORD = 'bench-right-password-0b64';
const WRONG_PASSWORD = 'bench-wrong-password-7f3a9c';
/** (c): more 500s than any client's retries ask for. */
const FAILING_ANSWERS = 20;

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
    return await withServer(launch, PEER_LONG_LIVED, async (server) => {
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
    await withServer(launch, { ...PEER_LONG_LIVED, clientSecret: CLIENT_SECRET, password: RIGHT_PASSWORD }, async (server) => {
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
