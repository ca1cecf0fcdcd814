/**
 * The Lua scripts of the Redis store's renewal protocol. Each runs atomically in Redis, so "compare, then write" can
 * never interleave with another process's step; the three keys of one entry (token, lease, failure record) share a
 * Cluster hash tag (see storeKey()), so each script touches one slot.
 *
 * A renewal costs two round trips on the happy path: ACQUIRE (read the token and the failure record, take the lease)
 * and COMMIT (write the token, release the lease). Every write made under a lease is fenced by the lease's owner
 * value: a holder whose lease expired (and was maybe taken over) changes nothing.
 *
 * KEYS are always [token, lease, failure].
 */

/**
 * ARGV: owner, lease ms, longest lease ms, longest failure ms, hold ms. Returns { token or false, token pttl, failure
 * or false, 1 when the lease was taken, repairs, failure pttl, the holder's time left or false }.
 *
 * The lease is taken only when it is free and no failure is recorded (a recorded failure is the answer the caller
 * gets instead). It is taken even when a token is stored: only the caller can tell whether that token is one it may
 * adopt, and it releases the lease at once when it is. Its value is `owner:deadline`, the deadline (Redis's clock,
 * from TIME, so no host's clock matters) being when the holder's own grant budget (`hold ms`) runs out: a waiter,
 * whatever its own options, waits while the holder is within it, and takes over from a holder that overstays.
 *
 * A lease or failure key that would stall or fail renewals for longer than any holder or cooldown could mean (no time
 * to live, or more than the longest one: set by hand, forged, or replayed) is cut to the caller's and reported
 * (repairs: 1 the lease, 2 the failure record).
 */
export const ACQUIRE = `
local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local token = redis.call('get', KEYS[1])
local ttl = redis.call('pttl', KEYS[1])
local failure = redis.call('get', KEYS[3])
local failureTtl = -2
local repairs = 0
if failure then
  failureTtl = redis.call('pttl', KEYS[3])
  if failureTtl == -1 or failureTtl > tonumber(ARGV[4]) then
    redis.call('pexpire', KEYS[3], ARGV[4])
    failureTtl = tonumber(ARGV[4])
    repairs = repairs + 2
  end
end
local leased = 0
local holderLeft = false
if not failure then
  local value = ARGV[1] .. ':' .. string.format('%d', nowMs + tonumber(ARGV[5]))
  if redis.call('set', KEYS[2], value, 'PX', ARGV[2], 'NX') then
    leased = 1
  else
    local leaseTtl = redis.call('pttl', KEYS[2])
    if leaseTtl == -1 or leaseTtl > tonumber(ARGV[3]) then
      redis.call('pexpire', KEYS[2], ARGV[2])
      repairs = repairs + 1
    end
    local held = redis.call('get', KEYS[2])
    local deadline = held and tonumber(string.match(held, ':(%d+)$'))
    if deadline then holderLeft = deadline - nowMs end
  end
end
return { token, ttl, failure, leased, repairs, failureTtl, holderLeft }
`;

/** The fencing test every write under a lease starts with: the lease still holds this owner's value. */
const OURS = "local held = redis.call('get', KEYS[2])\nif not held or string.sub(held, 1, #ARGV[1] + 1) ~= ARGV[1] .. ':' then return 0 end";

/** ARGV: owner, lease ms. Returns 1 when the lease was still ours (and now lasts its full length again), else 0. */
export const EXTEND = `
${OURS}
redis.call('pexpire', KEYS[2], ARGV[2])
return 1
`;

/**
 * ARGV: owner, value, ttl ms. Returns 1 when the lease was still ours: the token is written, the failure record
 * cleared (the endpoint works again) and the lease released. Else 0, and nothing is written.
 */
export const COMMIT = `
${OURS}
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('del', KEYS[3], KEYS[2])
return 1
`;

/** ARGV: owner, failure record, ttl ms. Returns 1 when the lease was still ours: the record is written, the lease released. */
export const FAIL = `
${OURS}
redis.call('set', KEYS[3], ARGV[2], 'PX', ARGV[3])
redis.call('del', KEYS[2])
return 1
`;

/** ARGV: owner. Deletes the lease only while it is ours. */
export const RELEASE = `
${OURS}
return redis.call('del', KEYS[2])
`;

/** ACQUIRE's reply, read defensively (a proxy or a changed script must not throw here). */
export interface AcquireReply {
  readonly token: string | undefined;
  /** The token's remaining time to live in ms; -1 without one, -2 when there is no token. */
  readonly tokenTtlMs: number;
  readonly failure: string | undefined;
  /** The failure record's remaining time to live in ms (after any repair). */
  readonly failureTtlMs: number;
  readonly leased: boolean;
  readonly repairedLease: boolean;
  readonly repairedFailure: boolean;
  /** When another process holds the lease: how long until its grant budget runs out (negative: overstayed). */
  readonly holderRemainingMs: number | undefined;
}

/** Parses ACQUIRE's reply; undefined when it is not one. */
export function parseAcquireReply(reply: unknown): AcquireReply | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [token, ttl, failure, leased, repairs, failureTtl, holderLeft] = reply as unknown[];
  if (typeof ttl !== 'number' || typeof leased !== 'number' || typeof repairs !== 'number' || typeof failureTtl !== 'number') return undefined;
  return {
    token: typeof token === 'string' ? token : undefined,
    tokenTtlMs: ttl,
    failure: typeof failure === 'string' ? failure : undefined,
    failureTtlMs: failureTtl,
    leased: leased === 1,
    repairedLease: (repairs & 1) !== 0,
    repairedFailure: (repairs & 2) !== 0,
    holderRemainingMs: typeof holderLeft === 'number' ? holderLeft : undefined,
  };
}
