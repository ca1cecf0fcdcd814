/**
 * The command line of `axios-oauth-bearer`: strict parsing with node:util's parseArgs, and the refusal of any flag
 * that would carry a secret. No message written here ever quotes an argument's value: a mistyped command line may
 * hold a pasted password.
 */
import { parseArgs } from 'node:util';

/** A problem with the command line or the environment (exit 2). Its lines never hold an argument's value. */
export class UsageError extends Error {}

const OPTIONS = {
  'token-url': { type: 'string' },
  issuer: { type: 'string' },
  'client-id': { type: 'string' },
  grant: { type: 'string' },
  param: { type: 'string', multiple: true },
  username: { type: 'string' },
  scope: { type: 'string' },
  'client-auth': { type: 'string' },
  timeout: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'secret-stdin': { type: 'boolean' },
  json: { type: 'boolean' },
  cache: { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  'cache-dir': { type: 'string' },
  forget: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** The parsed flags, typed from OPTIONS. */
export type Flags = ReturnType<typeof parseFlags>;

/** Names refused as flags, because their value would be a secret on the command line. */
const SECRET_FLAGS: Readonly<Record<string, string>> = {
  password: 'set OAUTH_PASSWORD in the environment, or pipe the password in with --password-stdin',
  'client-secret': 'set OAUTH_CLIENT_SECRET in the environment, or pipe the secret in with --secret-stdin',
  client_secret: 'set OAUTH_CLIENT_SECRET in the environment, or pipe the secret in with --secret-stdin',
  secret: 'set OAUTH_CLIENT_SECRET in the environment, or pipe the secret in with --secret-stdin',
  'refresh-token': 'set OAUTH_REFRESH_TOKEN in the environment (with --grant refresh_token)',
  refresh_token: 'set OAUTH_REFRESH_TOKEN in the environment (with --grant refresh_token)',
};

/** Parses argv strictly: refuses secret flags, unknown options and anything but the one command, `token`. */
export function parseFlags(args: readonly string[]) {
  refuseSecretFlags(args);
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch {
    // parseArgs's own messages quote the offending argument, which may be a misplaced secret: describe it ourselves.
    throw new UsageError(describeBadArguments(args));
  }
  const { values, positionals } = parsed;
  if (values.help !== true && values.version !== true) {
    // Positionals are never echoed: a stray one is as likely to be a pasted secret as a mistyped command.
    if (positionals.length === 0) throw new UsageError('missing the command: the only command is `token`');
    if (positionals[0] !== 'token') throw new UsageError('unknown command: the only command is `token`');
    if (positionals.length > 1) throw new UsageError('unexpected extra argument: `token` takes only options');
  }
  return values;
}

function refuseSecretFlags(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--') return;
    const name = /^--([^=]+)/.exec(arg)?.[1]?.toLowerCase();
    const instead = name === undefined ? undefined : SECRET_FLAGS[name];
    if (name !== undefined && instead !== undefined) {
      throw new UsageError(
        `--${name} is refused: secrets are never read from flags, because every user of this machine can read a ` +
          `process's command line (ps, /proc/<pid>/cmdline) and shells keep it in their history.\n` +
          `Instead, ${instead}. If that was a real secret, consider it exposed and change it.`,
      );
    }
  }
}

/** Finds the first problem that made the strict parse fail, naming the option but never quoting a value. */
function describeBadArguments(args: readonly string[]): string {
  const { tokens } = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = (OPTIONS as Readonly<Record<string, { type: 'string' | 'boolean' } | undefined>>)[token.name];
    if (spec === undefined) return `unknown option ${token.rawName}`;
    if (spec.type === 'boolean' && token.value !== undefined) return `${token.rawName} takes no value`;
    if (spec.type === 'string') {
      const { value } = token;
      if (value === undefined) return `${token.rawName} needs a value`;
      // Strict parsing will not take "--token-url --json" as a URL; the = form says the dash is meant.
      if (!token.inlineValue && value.startsWith('-')) {
        return `${token.rawName} needs a value (to give one that starts with "-", write ${token.rawName}=-...)`;
      }
    }
  }
  return 'the arguments could not be parsed';
}

