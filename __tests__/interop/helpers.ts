/** What the interop suites share: a client for a server, a raw token request, settling a burst, a secrets check. */
import { inspect } from 'node:util';

import { createAuthClient, type AuthClient, type SingleAccountAuthOptions } from '../../src/index.js';
import type { InteropServer } from './servers/types.js';

/** What both protected APIs answer to a valid token. */
export interface WhoAmI {
  /** The resource owner's username; null for a client credentials token (no user). */
  readonly user: string | null;
  readonly client: string;
  readonly path: string;
}

/** A client of the server's API with its credentials, token URL and `overrides`. */
export function clientFor(server: InteropServer, overrides: Partial<SingleAccountAuthOptions> = {}): AuthClient {
  const auth = { tokenUrl: server.tokenUrl, ...server.credentials, ...overrides } as SingleAccountAuthOptions;
  return createAuthClient({ baseURL: server.apiUrl, auth });
}

/** RFC 6749 2.3.1's application/x-www-form-urlencoded encoding of one value (the test's own, not the library's). */
export function formEncoded(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice('v='.length);
}

/** A token request sent by hand (through the proxy), with client_secret_post: its status and parsed body. */
export async function postToken(server: InteropServer, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(server.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ ...form, client_id: server.credentials.clientId, client_secret: server.credentials.clientSecret }),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** Runs `count` requests at once and returns why each failed (undefined for one that succeeded). */
export async function burst(count: number, request: (index: number) => Promise<unknown>): Promise<unknown[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, (_, index) => request(index)));
  return settled.map((outcome): unknown => (outcome.status === 'rejected' ? (outcome.reason as unknown) : undefined));
}

/**
 * The ways a secret could show in an error's text: as is, form-encoded (a request body), URI-encoded (a query).
 * Base64 is left out on purpose: an Authorization header is never part of an error, and the check would need the id.
 */
function spellings(secret: string): string[] {
  return [...new Set([secret, formEncoded(secret), encodeURIComponent(secret)])];
}

/**
 * Fails unless none of `secrets` (client secrets, refresh tokens, access tokens) shows in the error printed at full
 * depth (`util.inspect`, which shows non-enumerable `cause`s too) or serialized (`JSON.stringify`).
 */
export function expectNoSecrets(error: unknown, secrets: readonly (string | undefined)[]): void {
  const known = secrets.filter((secret): secret is string => secret !== undefined && secret !== '');
  if (known.length === 0) throw new Error('expectNoSecrets: no secret to look for');
  // JSON.stringify answers undefined for undefined, whatever its declared type says.
  const json: unknown = JSON.stringify(error);
  const texts = { inspect: inspect(error, { depth: null, showHidden: false }), json: typeof json === 'string' ? json : '' };
  for (const [how, text] of Object.entries(texts)) {
    for (const secret of known) {
      for (const spelling of spellings(secret)) {
        if (text.includes(spelling)) throw new Error(`a secret shows in ${how}(error): ${JSON.stringify(spelling)} in\n${text}`);
      }
    }
  }
}
