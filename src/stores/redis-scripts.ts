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
 * ARGV: owner, lease ms, repair ms. Returns { token or false, token pttl, failure or false, 1 when the lease was taken,
 * repairs }. The lease is taken only when it is free and no failure is recorded (a recorded failure is the answer
 * the caller gets instead). It is taken even when a token is stored: only the caller can tell whether that token is
 * one it may adopt, and it releases the lease at once when it is. A lease or failure key without a time to live (set
 * by hand, or by something else) would stall or fail every renewal for ever: it gets one, and the caller is told
 * (repairs: 1 the lease, 2 the failure record).
 */
export const ACQUIRE = `
local token = redis.call('get', KEYS[1])
local ttl = redis.call('pttl', KEYS[1])
local failure = redis.call('get', KEYS[3])
local repairs = 0
if failure and redis.call('pttl', KEYS[3]) == -1 then
  redis.call('pexpire', KEYS[3], ARGV[3])
  repairs = repairs + 2
end
local leased = 0
if not failure then
  if redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then
    leased = 1
  elseif redis.call('pttl', KEYS[2]) == -1 then
    redis.call('pexpire', KEYS[2], ARGV[2])
    repairs = repairs + 1
  end
end
return { token, ttl, failure, leased, repairs }
`;

/** ARGV: owner, lease ms. Returns 1 when the lease was still ours (and now lasts its full length again), else 0. */
export const EXTEND = `
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[2], ARGV[2])
return 1
`;

/**
 * ARGV: owner, value, ttl ms. Returns 1 when the lease was still ours: the token is written, the failure record
 * cleared (the endpoint works again) and the lease released. Else 0, and nothing is written.
 */
export const COMMIT = `
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('del', KEYS[3], KEYS[2])
return 1
`;

/** ARGV: owner, failure record, ttl ms. Returns 1 when the lease was still ours: the record is written, the lease released. */
export const FAIL = `
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[3], ARGV[2], 'PX', ARGV[3])
redis.call('del', KEYS[2])
return 1
`;

/** ARGV: owner. Deletes the lease only while it is ours. */
export const RELEASE = `
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
return redis.call('del', KEYS[2])
`;

/** ACQUIRE's reply, read defensively (a proxy or a changed script must not throw here). */
export interface AcquireReply {
  readonly token: string | undefined;
  /** The token's remaining time to live in ms; -1 without one, -2 when there is no token. */
  readonly tokenTtlMs: number;
  readonly failure: string | undefined;
  readonly leased: boolean;
  readonly repairedLease: boolean;
  readonly repairedFailure: boolean;
}

/** Parses ACQUIRE's reply; undefined when it is not one. */
export function parseAcquireReply(reply: unknown): AcquireReply | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [token, ttl, failure, leased, repairs] = reply as unknown[];
  if (typeof ttl !== 'number' || typeof leased !== 'number' || typeof repairs !== 'number') return undefined;
  return {
    token: typeof token === 'string' ? token : undefined,
    tokenTtlMs: ttl,
    failure: typeof failure === 'string' ? failure : undefined,
    leased: leased === 1,
    repairedLease: (repairs & 1) !== 0,
    repairedFailure: (repairs & 2) !== 0,
  };
}
