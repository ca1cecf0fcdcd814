/**
 * `axios-oauth-bearer token`: one grant (the password grant unless `--grant` names another), the access token on stdout. Everything the process touches (argv,
 * environment, stdin, stdout, stderr) is passed in, so tests run the whole command in-process.
 *
 * Secrets are read from the environment or stdin only (a command line is public on a shared machine), and every
 * line written to stderr has them removed once more, on top of the library's own redaction, and its control
 * characters escaped, so no text from the network can move the cursor, recolour the terminal or start a line of its
 * own that looks like ours. What goes to stdout (the token, or `--json`) was validated by the library: printable
 * ASCII only.
 */
import { StringDecoder } from 'node:string_decoder';

import { version } from '../../package.json';
import {
  ConfigurationError,
  GrantRejectedError,
  InvalidClientError,
  InvalidRequestError,
  InvalidTokenResponseError,
  TokenEndpointError,
  RefreshTokenRejectedError,
  TokenNetworkError,
  UserAuthenticationError,
} from '../errors.js';
import { type ClientAuthentication, resolveAuthOptions } from '../options.js';
import { endpointText, printable } from '../endpoint-text.js';
import { redactText, withEncodings } from '../redact.js';
import { configuredGrant, tokenEndpointFor } from '../token-endpoint.js';
import { type CacheSettings, cachedToken, forgetCached } from './token-cache-file.js';
import type { TokenSet } from '../token-set.js';
import { type Flags, parseFlags, UsageError } from './arguments.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { HELP, SYNOPSIS } from './help.js';

/** Where the command writes: `process.stdout` and `process.stderr`, or a test's collector. */
export interface TextOutput {
  write(text: string): unknown;
}

/** The process's surroundings, injected. */
export interface CommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Read only with `--password-stdin` or `--secret-stdin`, so a terminal never waits for input otherwise. */
  readonly stdin: AsyncIterable<string | Buffer>;
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
}

/**
 * What `--json` prints: what the token endpoint sent (its extension fields and its spelling of `token_type`
 * included), with the lifetime counted down to now.
 */
export interface TokenResponseOutput {
  readonly [field: string]: unknown;
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly scope?: string;
  readonly id_token?: string;
}

const CLIENT_AUTH: ReadonlyMap<string, ClientAuthentication> = new Map<string, ClientAuthentication>([
  ['post', 'client_secret_post'],
  ['basic', 'client_secret_basic'],
  ['basic-encoded', 'client_secret_basic_encoded'],
  ['basic-raw', 'client_secret_basic_raw'],
  ['client_secret_post', 'client_secret_post'],
  ['client_secret_basic', 'client_secret_basic'],
  ['client_secret_basic_encoded', 'client_secret_basic_encoded'],
  ['client_secret_basic_raw', 'client_secret_basic_raw'],
]);

/**
 * Runs the command and resolves to its exit code; never rejects. Output goes to `io.stdout` (the token) and
 * `io.stderr` (everything else).
 * @example
 * process.exitCode = await run(['token', '--json'], { env: process.env, stdin: process.stdin, stdout, stderr });
 */
export async function run(args: readonly string[], io: CommandIo): Promise<ExitCodeValue> {
  const secrets: string[] = [];
  try {
    const flags = parseFlags(args);
    if (flags.help === true) {
      io.stdout.write(HELP);
      return ExitCode.OK;
    }
    if (flags.version === true) {
      io.stdout.write(`${version}\n`);
      return ExitCode.OK;
    }
    const { options, sources } = await resolveInputs(flags, io, secrets);
    let resolved;
    try {
      resolved = resolveAuthOptions(options, 'cli');
    } catch (error) {
      throw error instanceof ConfigurationError ? configurationProblem(error, sources) : error;
    }
    const cache = cacheSettings(flags, io, (line) => io.stderr.write(`axios-oauth-bearer: ${printable(redactText(line, withEncodings(secrets)))}\n`));
    if (flags.forget === true) {
      if (cache === undefined) throw new UsageError('--forget works on the token cache: it cannot be used with --no-cache or OAUTH_CACHE=0');
      const had = await forgetCached(resolved, cache);
      io.stderr.write(`axios-oauth-bearer: ${had ? 'the cached token was forgotten' : 'no cached token to forget'}\n`);
      return ExitCode.OK;
    }
    const tokens = cache === undefined ? await configuredGrant(resolved, tokenEndpointFor(resolved)) : await cachedToken(options, resolved, cache);
    io.stdout.write(flags.json === true ? `${JSON.stringify(tokenResponse(tokens, Date.now()))}\n` : `${tokens.accessToken}\n`);
    const given = resolved.grant.type === 'refresh_token' ? resolved.grant.refreshToken : undefined;
    if (cache === undefined && flags.json !== true && given !== undefined && tokens.refreshToken !== given) {
      // The one given is spent (rotated away): without the new one, the next run would fail.
      io.stderr.write('axios-oauth-bearer: the refresh token was rotated and the one given is spent: use --json to get the new one, or --cache to keep it\n');
    }
    return ExitCode.OK;
  } catch (error) {
    const redactable = withEncodings(secrets);
    const { code, lines } = describeFailure(error, redactable);
    // Not cut again: the library already bounds the endpoint's text inside its messages, and our own lines are short.
    for (const line of lines) io.stderr.write(`axios-oauth-bearer: ${printable(redactText(inCliTerms(line), redactable))}\n`);
    if (code === ExitCode.USAGE) io.stderr.write(`${SYNOPSIS}\nRun \`axios-oauth-bearer --help\` for details.\n`);
    return code;
  }
}

/** The `--json` output. Whole seconds, rounded down: a script must never believe a token lives longer than it does. */
export function tokenResponse(tokens: TokenSet, now: number): TokenResponseOutput {
  const sentType = tokens.extra?.token_type;
  return {
    ...tokens.extra,
    access_token: tokens.accessToken,
    token_type: typeof sentType === 'string' ? sentType : tokens.tokenType,
    expires_in: Math.max(0, Math.floor((tokens.expiresAt - now) / 1000)),
    ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
    ...(tokens.idToken === undefined ? {} : { id_token: tokens.idToken }),
  };
}

/** Which flag or variable supplied each option, so a configuration error names the one the user actually set. */
type Sources = Partial<Record<string, string>>;

async function resolveInputs(flags: Flags, io: CommandIo, secrets: string[]) {
  const sources: Sources = {};
  const pick = (option: string, flag: string, variable: string | undefined): string | undefined => {
    const fromFlag = nonEmpty((flags as Readonly<Record<string, unknown>>)[flag]);
    const value = fromFlag ?? (variable === undefined ? undefined : nonEmpty(io.env[variable]));
    if (value !== undefined) sources[option] = fromFlag === undefined ? variable : `--${flag}`;
    return value;
  };
  const missing: string[] = [];

  // A flag for either endpoint overrides both variables, so `--issuer` works while OAUTH_TOKEN_URL is exported.
  const endpointFlags = nonEmpty(flags['token-url']) !== undefined || nonEmpty(flags.issuer) !== undefined;
  const tokenUrl = pick('tokenUrl', 'token-url', endpointFlags ? undefined : 'OAUTH_TOKEN_URL');
  const issuer = pick('issuer', 'issuer', endpointFlags ? undefined : 'OAUTH_ISSUER');
  if (tokenUrl !== undefined && issuer !== undefined) {
    throw new UsageError(`${sources.tokenUrl ?? ''} and ${sources.issuer ?? ''} are both set: give the token URL or the issuer, not both`);
  }
  if (tokenUrl === undefined && issuer === undefined) {
    missing.push('missing the token endpoint: pass --token-url (or --issuer), or set OAUTH_TOKEN_URL (or OAUTH_ISSUER)');
  }
  const clientId = pick('clientId', 'client-id', 'OAUTH_CLIENT_ID');
  if (clientId === undefined) missing.push('missing the client id: pass --client-id or set OAUTH_CLIENT_ID');
  const grantName = pick('grant', 'grant', 'OAUTH_GRANT') ?? 'password';
  const isPassword = grantName === 'password';
  const username = isPassword ? pick('username', 'username', 'OAUTH_USERNAME') : undefined;
  if (isPassword && username === undefined) missing.push('missing the username: pass --username or set OAUTH_USERNAME');
  if (!isPassword) refuseOutsideGrant(flags, grantName);
  const scope = pick('scope', 'scope', 'OAUTH_SCOPE');
  const passwordStdin = flags['password-stdin'] === true;
  const secretStdin = flags['secret-stdin'] === true;
  if (isPassword && !passwordStdin && nonEmpty(io.env.OAUTH_PASSWORD) === undefined) {
    missing.push('missing the password: set OAUTH_PASSWORD, or pipe it in with --password-stdin');
  }
  const grant = grantOption(grantName, flags, io, secrets, missing);
  if (!secretStdin && nonEmpty(io.env.OAUTH_CLIENT_SECRET) === undefined) {
    missing.push('missing the client secret: set OAUTH_CLIENT_SECRET, or pipe it in with --secret-stdin');
  }
  const clientAuthentication = parseClientAuth(flags['client-auth']);
  const timeout = parseTimeout(flags.timeout);
  if (missing.length > 0) throw new UsageError(missing.join('\n'));

  // Standard input is read last, and only when asked for, so a mistake above never leaves a terminal waiting.
  const lines = await readLines(io.stdin, Number(passwordStdin) + Number(secretStdin));
  const password = !isPassword ? undefined : passwordStdin ? nonEmpty(lines[0]) : nonEmpty(io.env.OAUTH_PASSWORD);
  const clientSecret = secretStdin ? nonEmpty(lines[passwordStdin ? 1 : 0]) : nonEmpty(io.env.OAUTH_CLIENT_SECRET);
  secrets.push(...[password, clientSecret].filter((secret) => secret !== undefined));
  if (isPassword && password === undefined) missing.push('missing the password: standard input had no line 1 for --password-stdin');
  if (clientSecret === undefined) {
    missing.push(`missing the client secret: standard input had no line ${passwordStdin ? 2 : 1} for --secret-stdin`);
  }
  if (missing.length > 0) throw new UsageError(missing.join('\n'));
  sources.password = passwordStdin ? '--password-stdin' : 'OAUTH_PASSWORD';
  sources.clientSecret = secretStdin ? '--secret-stdin' : 'OAUTH_CLIENT_SECRET';
  sources.refreshToken = 'OAUTH_REFRESH_TOKEN';

  const options = { tokenUrl, issuer, clientId, username, scope, password, clientSecret, clientAuthentication, timeout, ...grant };
  // resolveAuthOptions tells an absent option from one set to undefined: pass only those that were given.
  return { options: Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)), sources };
}

/**
 * Whether the token is cached, and where: `--cache` or `OAUTH_CACHE=1` turn it on, `--no-cache` or `OAUTH_CACHE=0`
 * off (a flag wins over the variable); `--forget` implies it. Undefined: no cache.
 */
function cacheSettings(flags: Flags, io: CommandIo, warn: (line: string) => void): CacheSettings | undefined {
  if (flags.cache === true && flags['no-cache'] === true) throw new UsageError('--cache and --no-cache contradict each other');
  const variable = nonEmpty(io.env.OAUTH_CACHE);
  if (variable !== undefined && !['1', 'true', '0', 'false'].includes(variable)) throw new UsageError('OAUTH_CACHE must be 1, true, 0 or false');
  const fromVariable = variable === undefined ? undefined : variable === '1' || variable === 'true';
  const on = flags['no-cache'] === true ? false : flags.cache === true || flags.forget === true || (fromVariable ?? false);
  if (!on) return undefined;
  return { directory: nonEmpty(flags['cache-dir']) ?? nonEmpty(io.env.OAUTH_CACHE_DIR), encryptionKey: nonEmpty(io.env.OAUTH_CACHE_KEY), warn };
}

/**
 * The library's advice in a shell user's terms: a cooldown (recorded in the cache, with `--cache`) is ended by
 * `token --forget`, not by a method call nobody at a shell can make.
 */
function inCliTerms(line: string): string {
  return line.replace(
    '; renewals fail fast with this error until the cooldown ends (err.retryAfterMs, err.cooldownEndsAt) or tokens.clearCooldown() is called',
    '; the refusal is cached: runs fail fast with it until the cooldown ends, or until `axios-oauth-bearer token --forget`',
  );
}

/** The grants `--grant` names, beside an extension grant's URI. */
const GRANT_NAMES: ReadonlyMap<string, 'password' | 'client_credentials' | 'refresh_token'> = new Map([
  ['password', 'password'],
  ['client_credentials', 'client_credentials'],
  ['client-credentials', 'client_credentials'],
  ['refresh_token', 'refresh_token'],
  ['refresh-token', 'refresh_token'],
]);

/** A grant without a resource owner takes no username or password: a stray one is refused rather than ignored. */
function refuseOutsideGrant(flags: Flags, grant: string): void {
  // OAUTH_USERNAME and OAUTH_PASSWORD are ignored rather than refused: a shell may export them for other commands.
  if (nonEmpty(flags.username) !== undefined || flags['password-stdin'] === true) {
    throw new UsageError(`--username and --password-stdin apply only to the password grant, not to --grant ${shownGrant(grant)}`);
  }
}

/** The `auth` fields of the grant `--grant` names: none for the password grant. Secrets come from the environment only. */
function grantOption(name: string, flags: Flags, io: CommandIo, secrets: string[], missing: string[]): Record<string, unknown> {
  const params = flags.param ?? [];
  const known = GRANT_NAMES.get(name);
  if (known !== undefined && params.length > 0) throw new UsageError('--param applies only to an extension grant (--grant <URI>)');
  if (known === 'password') return {};
  if (known === 'client_credentials') return { grant: 'client_credentials' };
  if (known === 'refresh_token') {
    const refreshToken = nonEmpty(io.env.OAUTH_REFRESH_TOKEN);
    if (refreshToken === undefined) missing.push('missing the refresh token: set OAUTH_REFRESH_TOKEN (with --grant refresh_token)');
    else secrets.push(refreshToken);
    return { grant: 'refresh_token', refreshToken };
  }
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(name)) {
    throw new UsageError('--grant must be password, client_credentials, refresh_token, or an extension grant type URI');
  }
  const parameters = Object.fromEntries(params.map((param) => splitParam(param)));
  // An extension grant's secret parameters, form-encoded in one variable (`subject_token=...&actor_token=...`).
  const secretText = nonEmpty(io.env.OAUTH_GRANT_SECRETS);
  const entries = secretText === undefined ? [] : [...new URLSearchParams(secretText)];
  // Every part is a secret until proven otherwise: a bare assertion (no `name=`) would otherwise come back as a name.
  secrets.push(...entries.flat().filter((part) => part !== ''));
  if (secretText !== undefined && (entries.length === 0 || entries.some(([key, value]) => key === '' || value === '' || !secretText.includes('=')))) {
    throw new UsageError('OAUTH_GRANT_SECRETS must be form-encoded name=value pairs (subject_token=...&actor_token=...), each with a value');
  }
  const grantSecrets = Object.fromEntries(entries);
  return { grant: { type: name, parameters, secrets: grantSecrets } };
}

/** `name=value` of `--param`; never quoted back (it is a command-line value). */
function splitParam(param: string): [string, string] {
  const at = param.indexOf('=');
  if (at <= 0) throw new UsageError('--param must be name=value');
  return [param.slice(0, at), param.slice(at + 1)];
}

/** A `--grant` value for a message: a known name, or only that it was a URI (it is a command-line value, but public). */
function shownGrant(grant: string): string {
  return GRANT_NAMES.has(grant) ? grant : '<URI>';
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function parseClientAuth(value: string | undefined): ClientAuthentication | undefined {
  if (nonEmpty(value) === undefined) return undefined;
  // A Map: an object literal would find `constructor` for `--client-auth constructor`.
  const method = CLIENT_AUTH.get(value ?? '');
  if (method === undefined) throw new UsageError('--client-auth must be `post`, `basic`, `basic-encoded` or `basic-raw`');
  return method;
}

function parseTimeout(value: string | undefined): number | undefined {
  if (nonEmpty(value) === undefined) return undefined;
  if (!/^\d+$/.test(value ?? '') || Number(value) <= 0) {
    throw new UsageError('--timeout must be a whole number of milliseconds greater than 0');
  }
  return Number(value);
}

/** The first `count` lines of `stdin` (without their line endings); stops reading once it has them. */
async function readLines(stdin: AsyncIterable<string | Buffer>, count: number): Promise<string[]> {
  if (count === 0) return [];
  const decoder = new StringDecoder('utf8');
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (text.split('\n').length > count) break;
  }
  text += decoder.end();
  return text.split('\n').slice(0, count).map((line) => line.replace(/\r$/, ''));
}

/** Rewrites a library ConfigurationError (`cli.tokenUrl`) in the CLI's terms (`OAUTH_TOKEN_URL`). */
function configurationProblem(error: ConfigurationError, sources: Sources): UsageError {
  const option = error.option.replace(/^cli\./, '');
  const prefix = `Invalid option \`${error.option}\`: `;
  const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new UsageError(`invalid ${sources[option] ?? option}: ${problem}`);
}

const CHECK_CLIENT = 'Check the client id (--client-id or OAUTH_CLIENT_ID), the client secret (OAUTH_CLIENT_SECRET) and --client-auth.';
const CHECK_REQUEST = 'Check the scope (--scope or OAUTH_SCOPE) and the token URL.';

/**
 * The hint for an invalid request, by its cause: "check the scope" is the wrong advice when the client may not use
 * the password grant at all.
 */
const REQUEST_HINTS: ReadonlyMap<string, string> = new Map([
  ['invalid_scope', 'Check the scope (--scope or OAUTH_SCOPE): ask only for scopes the client is registered for.'],
  ['unauthorized_client', 'The client is not allowed the password grant: enable it for this client at the authorization server.'],
  ['unsupported_grant_type', 'The authorization server does not offer the password grant here: check the token URL and the server.'],
]);
const CHECK_REFRESH = 'The refresh token (OAUTH_REFRESH_TOKEN) is invalid, expired, revoked or already used: obtain a new one.';
const CHECK_GRANT = 'Check the grant parameters (--param) and secrets (OAUTH_GRANT_SECRETS): the endpoint refused them.';
const CHECK_USER = 'Check the username (--username or OAUTH_USERNAME) and the password (OAUTH_PASSWORD or --password-stdin).';

/** The exit code and stderr lines for a failure. Library messages are already redacted; the raw body is never added. */
function describeFailure(error: unknown, secrets: readonly string[]): { code: ExitCodeValue; lines: string[] } {
  if (error instanceof UsageError) return { code: ExitCode.USAGE, lines: error.message.split('\n') };
  // Subclasses before TokenEndpointError, which they all extend.
  // By class, and the classes follow the OAuth code: a wrong password answered 400 invalid_grant is exit 5, not 3.
  if (error instanceof InvalidRequestError) {
    const hint = (error.error === undefined ? undefined : REQUEST_HINTS.get(error.error)) ?? CHECK_REQUEST;
    return { code: ExitCode.INVALID_REQUEST, lines: [error.message, hint] };
  }
  if (error instanceof InvalidClientError) return { code: ExitCode.INVALID_CLIENT, lines: [error.message, CHECK_CLIENT] };
  if (error instanceof UserAuthenticationError) return { code: ExitCode.USER_AUTHENTICATION, lines: [error.message, CHECK_USER] };
  if (error instanceof RefreshTokenRejectedError) return { code: ExitCode.USER_AUTHENTICATION, lines: [error.message, CHECK_REFRESH] };
  if (error instanceof GrantRejectedError) return { code: ExitCode.USER_AUTHENTICATION, lines: [error.message, CHECK_GRANT] };
  if (error instanceof TokenNetworkError) {
    const hint = error.timedOut ? 'Raise --timeout if the endpoint is slow.' : 'Check the token URL and the network.';
    return { code: ExitCode.NETWORK, lines: [error.message, hint] };
  }
  if (error instanceof InvalidTokenResponseError) {
    return { code: ExitCode.INVALID_RESPONSE, lines: [error.message, 'Check that the URL is the token endpoint itself.'] };
  }
  if (error instanceof TokenEndpointError) return { code: ExitCode.TOKEN_ENDPOINT, lines: [error.message] };
  // A failure nobody foresaw may carry anything: its text is redacted and bounded like the endpoint's.
  const message = endpointText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), secrets);
  return { code: ExitCode.UNEXPECTED, lines: [`unexpected failure: ${message}`] };
}
