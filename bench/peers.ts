/**
 * `npm run bench -- --peers`: this library and the libraries people use instead (./peer-clients.ts), in the same
 * run, the same scenarios and against the same loopback authorization server (through `launch`, like scenarios
 * 1-7), one client after the other, so the README's comparison can be reproduced from the repository:
 * - (a) storm: `requests` concurrent requests meet a token that expired (the server's lifetime ran out: the virtual
 *   clock moved past it, or a sleep on the real one) or was revoked (the server refuses it, the client cannot know):
 *   requests ok and failed, token calls, 401s served.
 * - (b) origin and (c) secrets in the caller's errors: see ./peer-exposure.ts.
 * - (d) steady state: `workers` loops for `durationMs` over tokens of `expiresIn` seconds: 401s served per expiry.
 * Every loop is bounded in count and time (bursts by count, pools by count and time, every request by 30 s). A
 * scenario that throws for a peer (its warm-up failed, say) is recorded with the reason, never as a number.
 */
import type { BenchServer, LaunchServer } from './bench-server.js';
import { burst, type Counts, counted, phases, pool, type Progress, sleep, withServer } from './load.js';
import { attempt, type NotRun, PEER_LONG_LIVED, PEERS, succeeds } from './peer-clients.js';
import { peerOrigin, type PeerOriginRow, peerSecrets, type PeerSecretsRow } from './peer-exposure.js';
import { type ClockMode, realNow, withVirtualClock } from './virtual-clock.js';

/** The sizes of one comparison. */
export interface PeerSizes {
  /** (a): `expiresIn` is the lifetime in the expired variant (seconds; minutes on the virtual clock). */
  readonly storm: { readonly requests: number; readonly expiresIn: number; readonly clock: ClockMode };
  /** (d) */
  readonly steady: { readonly expiresIn: number; readonly workers: number; readonly durationMs: number };
}

/**
 * The README's sizes: the storm of its claims, scenario 4's steady state. The expired storm runs on the virtual
 * clock here too: with a real 1-second token, a 500-request burst on a loaded machine (2.4 to 4.3 s at load 14)
 * outlives the token it renews, and then measures the machine's speed (this library made 3 token calls and served
 * 499 401s, OAuth2Fetch failed 8), not how a client meets an expiry. What real time does at every expiry is what (d)
 * measures.
 */
export const PEERS_FULL: PeerSizes = {
  storm: { requests: 500, expiresIn: 100, clock: 'virtual' },
  steady: { expiresIn: 1, workers: 20, durationMs: 5_000 },
};

/** Small sizes for a look at the harness (`--peers --quick`) and the Jest test. */
export const PEERS_QUICK: PeerSizes = {
  storm: { requests: 50, expiresIn: 100, clock: 'virtual' },
  steady: { expiresIn: 1, workers: 5, durationMs: 2_000 },
};

const PAST_EXPIRY_MS = 25;
export type StormVariant = 'expired' | 'revoked';
export interface PeerStormRow extends Counts {
  readonly peer: string;
  readonly variant: StormVariant;
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

/** (a), both variants. */
export async function peerStorm(launch: LaunchServer, sizes: PeerSizes['storm'], variants: readonly StormVariant[], reporter: PeerReporter = () => undefined): Promise<(PeerStormRow | NotRun)[]> {
  const rows: (PeerStormRow | NotRun)[] = [];
  for (const variant of variants) {
    const next = phases(reporter(variant === 'expired' ? 0 : 1), sizes.requests * PEERS.length);
    const options = variant === 'expired' ? { expiresIn: sizes.expiresIn } : PEER_LONG_LIVED;
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
