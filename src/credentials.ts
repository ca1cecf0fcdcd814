/**
 * Credentials that may come from anywhere: a password or client secret given as a value or as a function (a vault
 * look-up, a rotated secret), and, on a client for many accounts, the provider that gives each account's username and
 * password. They are fetched at the start of each renewal and held only while it runs: never cached here, so a secret
 * rotated in the vault is used by the next renewal without a restart.
 *
 * A function that throws, hangs or answers garbage costs no token request: it becomes a {@link CredentialError} (with
 * nothing of the value, or of what was thrown but its class name), and the renewal fails with it.
 */
import { createHmac, randomBytes } from 'node:crypto';

import { CredentialError, type CredentialName } from './errors.js';

/** A secret as a value, or as a function (sync or async) called each time a renewal needs it. */
export type Credential = string | (() => string | PromiseLike<string>);

/** One account's resource-owner credentials, as `auth.account` gives them. */
export interface AccountCredentials {
  readonly username: string;
  readonly password: string;
}

/** Gives the credentials of an account (its id, as requests name it with `account`). May look them up anywhere. */
export type AccountProvider = (account: string) => AccountCredentials | PromiseLike<AccountCredentials>;

/** Everything one renewal sends: fetched for it, dropped after it. */
export interface GrantCredentials {
  readonly clientSecret: string;
  /** The password grant's resource owner; undefined for the other grants. */
  readonly owner: AccountCredentials | undefined;
  /** An extension grant's secret parameters, fetched, in the options' order; empty for the other grants. */
  readonly secrets: readonly (readonly [string, string])[];
}

/** Where a renewal's credentials come from: one account's, or the single-account client's. */
export type CredentialSource = () => Promise<GrantCredentials>;

/** Sources before fetching: what the options resolve to. */
export interface CredentialSources {
  readonly clientSecret: Credential;
  /**
   * The user's credentials: fixed ones (the password maybe a function), or those of an account; undefined for a grant
   * without a resource owner.
   */
  readonly user:
    | { readonly username: string; readonly password: Credential }
    | { readonly account: string; readonly provider: AccountProvider }
    | undefined;
  /** An extension grant's secret parameters (values or functions). @default [] */
  readonly secrets?: readonly (readonly [string, Credential])[];
  /** Bounds each function call, as it bounds a token request (`auth.timeout`). */
  readonly timeoutMs: number;
}

/** The source of a renewal's credentials: each function called once per renewal, in parallel, each bounded. */
export function credentialSource(sources: CredentialSources): CredentialSource {
  return async () => {
    const { user, timeoutMs } = sources;
    const account = user !== undefined && 'account' in user ? user.account : undefined;
    const [clientSecret, owner, secrets] = await Promise.all([
      secretOf(sources.clientSecret, 'clientSecret', timeoutMs, account),
      ownerOf(user, timeoutMs),
      Promise.all((sources.secrets ?? []).map(async ([key, value]) => [key, await secretOf(value, 'grant.secrets', timeoutMs, undefined, key)] as const)),
    ]);
    return { clientSecret, owner, secrets };
  };
}

/** True when every source is a value: nothing to call, so a renewal need not fetch (the fast path). */
export function isFixed(sources: CredentialSources): boolean {
  const { user } = sources;
  const fixedUser = user === undefined || ('password' in user && typeof user.password === 'string');
  return fixedUser && typeof sources.clientSecret === 'string' && (sources.secrets ?? []).every(([, value]) => typeof value === 'string');
}

function ownerOf(user: CredentialSources['user'], timeoutMs: number): Promise<AccountCredentials | undefined> {
  if (user === undefined) return Promise.resolve(undefined);
  return 'account' in user ? accountOf(user.provider, user.account, timeoutMs) : passwordOf(user.username, user.password, timeoutMs);
}

async function passwordOf(username: string, password: Credential, timeoutMs: number): Promise<AccountCredentials> {
  return { username, password: await secretOf(password, 'password', timeoutMs, undefined) };
}

async function secretOf(credential: Credential, name: CredentialName, timeoutMs: number, account: string | undefined, parameter?: string): Promise<string> {
  if (typeof credential === 'string') return credential;
  const value = await call(() => credential(), name, timeoutMs, account, parameter);
  if (typeof value !== 'string' || value === '') {
    throw new CredentialError(name, 'invalid', `returned ${kindOf(value)}, not a non-empty string`, account, parameter);
  }
  return value;
}

async function accountOf(provider: AccountProvider, account: string, timeoutMs: number): Promise<AccountCredentials> {
  const value = await call(() => provider(account), 'account', timeoutMs, account);
  if (value === null || typeof value !== 'object') {
    throw new CredentialError('account', 'invalid', `returned ${kindOf(value)}, not { username, password }`, account);
  }
  let username: unknown;
  let password: unknown;
  try {
    // A getter or a Proxy trap may throw: that is the provider failing, as a throw from the provider itself is.
    username = Reflect.get(value, 'username');
    password = Reflect.get(value, 'password');
  } catch (error) {
    throw new CredentialError('account', 'threw', `returned an object whose fields threw ${error instanceof Error ? error.name : kindOf(error)}`, account);
  }
  for (const [field, entry] of [['username', username], ['password', password]] as const) {
    if (typeof entry !== 'string' || entry === '') {
      throw new CredentialError('account', 'invalid', `returned a ${field} that is ${kindOf(entry)}, not a non-empty string`, account);
    }
  }
  // Copied into a fresh object: the provider's own object (a vault record, say) is not kept, nor anything else on it.
  return { username: username as string, password: password as string };
}

/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fn`, bounded by `timeoutMs`; a throw, a rejection or the deadline becomes a CredentialError. */
async function call<T>(
  fn: () => T | PromiseLike<T>,
  name: CredentialName,
  timeoutMs: number,
  account: string | undefined,
  parameter?: string,
): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const late = (): CredentialError => new CredentialError(name, 'timed-out', `did not answer within ${timeoutMs} ms`, account, parameter);
    // Clamped as Node clamps: a longer delay would fire at once.
    timer = setTimeout(() => reject(late()), Math.min(timeoutMs, MAX_TIMER_MS));
    // A hung vault must not keep the process alive once nothing else does.
    (timer as { unref?: () => void } | undefined)?.unref?.(); // Node and Bun; Deno's and browsers' timers are numbers
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), deadline]);
  } catch (error) {
    if (error instanceof CredentialError) throw error;
    // Only the class name: a vault's message may quote the very secret it failed on.
    throw new CredentialError(name, 'threw', `threw ${error instanceof Error ? error.name : kindOf(error)}`, account, parameter);
  } finally {
    clearTimeout(timer);
  }
}

/** A value's kind for a message, never the value itself. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'an array';
  const kind = typeof value;
  return kind === 'undefined' ? 'undefined' : `a${/^[aeiou]/.test(kind) ? 'n' : ''} ${kind}`;
}

/** Keys the tags below: random per process, so a tag kept in memory is no offline oracle for guessing a password. */
const TAG_KEY = randomBytes(32);

/**
 * A digest of a renewal's credentials, to tell whether two renewals used the same ones without keeping them: '' for a
 * client whose credentials are fixed values (they cannot change). An HMAC under a per-process random key, never
 * stored or sent.
 */
export function credentialTag(credentials: GrantCredentials | undefined): string {
  if (credentials === undefined) return '';
  const { clientSecret, owner, secrets } = credentials;
  return createHmac('sha256', TAG_KEY).update(JSON.stringify([clientSecret, owner?.username ?? null, owner?.password ?? null, secrets])).digest('base64');
}
