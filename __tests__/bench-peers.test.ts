/**
 * The harness of `npm run bench -- --peers` (bench/peers.ts, bench/peer-clients.ts), at a small size against the
 * loopback server in this process: the counts of each scenario that do not depend on timing, for this library and
 * for each peer at its pinned version. The expired storm runs on the benchmark's virtual clock, so no count here
 * depends on how fast the machine is. Counts that are a race (how many of axios-auth-refresh's 401s arrive while its
 * refresh is in flight, and so fail) are only bounded.
 */
import { launchInProcess } from '../bench/bench-server.js';
import { type NotRun, PEERS } from '../bench/peer-clients.js';
import { peerOrigin, type PeerOriginRow, peerSecrets, type PeerSecretsRow } from '../bench/peer-exposure.js';
import { peerStorm, type PeerStormRow, type StormVariant } from '../bench/peers.js';

const REQUESTS = 50;
const OURS = 'axios-oauth-bearer';
const BADGATEWAY = '@badgateway/oauth2-client';
const RECIPES = ['axios-auth-refresh', 'axios-oauth-client'];

function measured<T extends { readonly peer: string }>(rows: readonly (T | NotRun)[], peer: string, pick: (row: T) => boolean = () => true): T {
  const found = rows.filter((row): row is T => !('notRun' in row) && row.peer === peer && pick(row));
  const notRun = rows.find((row): row is NotRun => 'notRun' in row && row.peer === peer);
  if (notRun !== undefined) throw new Error(`${peer} could not run: ${notRun.notRun}`);
  if (found.length !== 1 || found[0] === undefined) throw new Error(`expected one row for ${peer}, found ${found.length}`);
  return found[0];
}

describe('the peers storm, 50 requests', () => {
  let rows: readonly (PeerStormRow | NotRun)[];
  beforeAll(async () => {
    rows = await peerStorm(launchInProcess, { requests: REQUESTS, expiresIn: 100, clock: 'virtual' }, ['expired', 'revoked']);
  }, 60_000);
  const row = (peer: string, variant: StormVariant): PeerStormRow => measured(rows, peer, (r) => r.variant === variant);

  test('runs every library in both variants', () => {
    expect(rows.filter((r) => 'notRun' in r)).toEqual([]);
    expect(rows).toHaveLength(PEERS.length * 2);
  });

  test('this library: 50 of 50 after exactly one token call; 401s only when the server revoked a token the client could not know was dead', () => {
    expect(row(OURS, 'expired')).toMatchObject({ requests: REQUESTS, ok: REQUESTS, failures: 0, tokenCalls: 1, api401s: 0 });
    expect(row(OURS, 'revoked')).toMatchObject({ requests: REQUESTS, ok: REQUESTS, failures: 0, tokenCalls: 1, api401s: REQUESTS });
  });

  test('OAuth2Fetch renews an expired token once before sending, and replays every 401 of a revoked one', () => {
    expect(row(BADGATEWAY, 'expired')).toMatchObject({ requests: REQUESTS, ok: REQUESTS, failures: 0, tokenCalls: 1, api401s: 0 });
    const revoked = row(BADGATEWAY, 'revoked');
    expect(revoked).toMatchObject({ requests: REQUESTS, ok: REQUESTS, failures: 0, api401s: REQUESTS });
    // One refresh per 401 that arrives after the previous refresh settled: at least one, how many is a race.
    expect(revoked.tokenCalls).toBeGreaterThanOrEqual(1);
  });

  test('the axios-auth-refresh recipes send every request with the dead token (they do not track expiry) and reject the 401s that meet a refresh in flight', () => {
    for (const peer of RECIPES) {
      for (const variant of ['expired', 'revoked'] as const) {
        const counts = row(peer, variant);
        expect(counts).toMatchObject({ requests: REQUESTS, api401s: REQUESTS });
        expect(counts.ok + counts.failures).toBe(REQUESTS);
        expect(counts.ok).toBeGreaterThanOrEqual(1);
        expect(counts.tokenCalls).toBeGreaterThanOrEqual(1);
        // Every failure is a rejected 401, and each success cost at most one refresh.
        expect(counts.tokenCalls).toBeLessThanOrEqual(counts.ok);
        if (counts.failures > 0) expect(counts.firstError).toBe('PeerFailure HTTP_401');
      }
    }
  });
});

describe('the other scenarios', () => {
  let origin: readonly (PeerOriginRow | NotRun)[];
  let secrets: readonly (PeerSecretsRow | NotRun)[];
  beforeAll(async () => {
    origin = await peerOrigin(launchInProcess);
    secrets = await peerSecrets(launchInProcess);
  }, 90_000);

  test('only this library keeps the bearer token from an absolute URL to another origin', () => {
    expect(measured(origin, OURS)).toEqual({ peer: OURS, tokenSent: false, answered: true });
    for (const peer of [...RECIPES, BADGATEWAY]) expect(measured(origin, peer)).toEqual({ peer, tokenSent: true, answered: true });
  });

  test('the secrets detector finds the password and client secret in the recipes’ AxiosErrors, and nothing in this library’s errors', () => {
    const none = { password: false, clientSecret: false };
    const both = { password: true, clientSecret: true };
    for (const variant of ['wrong password', 'token endpoint 500'] as const) {
      const pick = (row: PeerSecretsRow): boolean => row.variant === variant;
      expect(measured(secrets, OURS, pick)).toMatchObject({ failed: true, inspect: none, json: none });
      expect(measured(secrets, BADGATEWAY, pick)).toMatchObject({ failed: true, error: 'OAuth2HttpError', inspect: none, json: none });
      for (const peer of RECIPES) expect(measured(secrets, peer, pick)).toMatchObject({ failed: true, inspect: both, json: both });
    }
    expect(measured(secrets, OURS, (row) => row.variant === 'wrong password').error).toBe('UserAuthenticationError ERR_OAUTH_USER_AUTHENTICATION_FAILED');
  });
});
