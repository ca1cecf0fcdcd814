/**
 * One class identity across the two builds: the ESM copy (dist/index.js, dynamic import) and the CommonJS copy
 * (dist/index.cjs, require) loaded in one Node process, as when a CommonJS dependency sits beside ESM code. Every
 * error class must answer `instanceof` for an error of either copy, in both directions, and only for its own class
 * and its subclasses. The build is what `npm test` makes before Jest; run alone, this file builds when dist is
 * missing or older than the error sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const BUILT = ['index.js', 'index.cjs', 'redis.js', 'redis.cjs'].map((file) => join(ROOT, 'dist', file));
const SOURCES = ['src/errors.ts', 'src/stores/errors.ts', 'src/index.ts'].map((file) => join(ROOT, file));

/** Each exported error class and its library parent (undefined for the base). */
const PARENT: Readonly<Record<string, string | undefined>> = {
  OAuthBearerError: undefined,
  ConfigurationError: 'OAuthBearerError',
  TokenRequestError: 'OAuthBearerError',
  TokenEndpointError: 'TokenRequestError',
  InvalidRequestError: 'TokenEndpointError',
  InvalidClientError: 'TokenEndpointError',
  UserAuthenticationError: 'TokenEndpointError',
  InvalidTokenResponseError: 'TokenRequestError',
  TokenNetworkError: 'TokenRequestError',
  ReplayNotPossibleError: 'OAuthBearerError',
  OriginNotAllowedError: 'OAuthBearerError',
  TokenStoreError: 'OAuthBearerError',
};
const CLASSES = Object.keys(PARENT);

function isA(made: string, checked: string): boolean {
  for (let name: string | undefined = made; name !== undefined; name = PARENT[name]) if (name === checked) return true;
  return false;
}

/**
 * Runs in a child node process: loads both copies, makes one instance of every class with each, and answers every
 * `instanceof` pair; then the negative and real-flow cases.
 */
const PROBE = String.raw`
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';

const root = process.argv[1];
const require = createRequire(root + '/package.json');
const url = (file) => pathToFileURL(root + '/dist/' + file).href;
const copies = {
  esm: { ...(await import(url('index.js'))), ...(await import(url('redis.js'))) },
  cjs: { ...require(root + '/dist/index.cjs'), ...require(root + '/dist/redis.cjs') },
};
const response = { status: 400, headers: {}, body: {} };
const make = {
  OAuthBearerError: (m) => new m.OAuthBearerError(m.ErrorCode.HOOK, 'x'),
  ConfigurationError: (m) => new m.ConfigurationError('auth.tokenUrl', 'x'),
  TokenRequestError: (m) => new m.TokenRequestError(m.ErrorCode.TOKEN_ENDPOINT, 'password', 'x'),
  TokenEndpointError: (m) => new m.TokenEndpointError('password', response, {}),
  InvalidRequestError: (m) => new m.InvalidRequestError('password', response, { error: 'invalid_scope' }),
  InvalidClientError: (m) => new m.InvalidClientError('password', response, { error: 'invalid_client' }),
  UserAuthenticationError: (m) => new m.UserAuthenticationError('password', response, { error: 'invalid_grant' }),
  InvalidTokenResponseError: (m) => new m.InvalidTokenResponseError('password', 'access_token', 'x', response),
  TokenNetworkError: (m) => new m.TokenNetworkError('password', true, new Error('x')),
  ReplayNotPossibleError: (m) => new m.ReplayNotPossibleError({}),
  OriginNotAllowedError: (m) => new m.OriginNotAllowedError('https://other.test', ['https://api.test']),
  TokenStoreError: (m) => new m.TokenStoreError('get', 'timeout', 'k', 'x'),
};
const matrix = [];
for (const [maker, made] of Object.entries(copies)) {
  for (const [name, build] of Object.entries(make)) {
    const error = build(made);
    for (const [checker, checked] of Object.entries(copies)) {
      for (const className of Object.keys(make)) {
        matrix.push([maker, name, checker, className, error instanceof checked[className]]);
      }
    }
  }
}

const { esm, cjs } = copies;
const forged = Object.assign(new Error('user authentication failed'), { code: esm.ErrorCode.USER_AUTHENTICATION, name: 'UserAuthenticationError' });
class Mine extends esm.UserAuthenticationError {}
const mine = new Mine('password', response, {});
const other = make.UserAuthenticationError(cjs);
const negatives = {
  userAuthIsNotInvalidClient: [other instanceof esm.InvalidClientError, make.UserAuthenticationError(esm) instanceof cjs.InvalidClientError],
  storeErrorIsNotTokenRequest: [make.TokenStoreError(cjs) instanceof esm.TokenRequestError, make.TokenStoreError(esm) instanceof cjs.TokenRequestError],
  forgedCode: [forged instanceof esm.OAuthBearerError, forged instanceof cjs.OAuthBearerError, forged instanceof cjs.UserAuthenticationError],
  plainObject: [{ code: esm.ErrorCode.CONFIGURATION } instanceof cjs.OAuthBearerError, null instanceof cjs.OAuthBearerError, 'x' instanceof esm.OAuthBearerError],
  otherCopyIsNotYourSubclass: [other instanceof Mine],
  yourSubclassIsTheOtherCopysClass: [mine instanceof cjs.UserAuthenticationError, mine instanceof cjs.OAuthBearerError, mine instanceof Mine],
  yourSubclassIsNotASibling: [mine instanceof cjs.InvalidClientError],
  plainErrorStillWorks: [other instanceof Error, forged instanceof Error],
};
const printed = JSON.stringify(other) + inspect(other, { depth: null });

// A real flow: the CommonJS copy makes a grant that fails; ESM code checks the error with its own classes.
const { startAuthServer } = await import(url('testing/server.js'));
const server = await startAuthServer({ password: 'right-password' });
const api = cjs.createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, password: 'wrong-password' } });
let flow;
try {
  await api.get('/x');
} catch (error) {
  flow = {
    userAuth: error instanceof esm.UserAuthenticationError,
    base: error instanceof esm.OAuthBearerError,
    endpoint: error instanceof esm.TokenEndpointError,
    invalidClient: error instanceof esm.InvalidClientError,
    sameCopy: error instanceof cjs.UserAuthenticationError,
    name: error.name,
  };
}
let thrown;
try {
  esm.createAuthClient({ baseURL: server.apiUrl, auth: { clientId: 'c' } });
} catch (error) {
  thrown = [error instanceof cjs.ConfigurationError, error instanceof cjs.TokenRequestError];
}
await server.close();
process.stdout.write(JSON.stringify({ matrix, negatives, printed, flow, thrown }));
`;

interface ProbeResult {
  readonly matrix: readonly [string, string, string, string, boolean][];
  readonly negatives: Readonly<Record<string, readonly boolean[]>>;
  readonly printed: string;
  readonly flow: Readonly<Record<string, unknown>> | undefined;
  readonly thrown: readonly boolean[] | undefined;
}

let result: ProbeResult;

beforeAll(() => {
  const newest = Math.max(...SOURCES.map((file) => statSync(file).mtimeMs));
  if (!BUILT.every((file) => existsSync(file) && statSync(file).mtimeMs >= newest)) {
    execFileSync('npx', ['tsup'], { cwd: ROOT, stdio: 'ignore' });
  }
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, ROOT], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`the probe failed (${String(child.status)}): ${child.stderr}`);
  result = JSON.parse(child.stdout) as ProbeResult;
}, 120_000);

describe('both builds in one process', () => {
  test.each([
    ['esm', 'cjs'],
    ['cjs', 'esm'],
    ['esm', 'esm'],
    ['cjs', 'cjs'],
  ])('an error made by the %s copy answers instanceof for the %s copy\'s classes exactly by the class hierarchy', (maker, checker) => {
    const rows = result.matrix.filter(([made, , checked]) => made === maker && checked === checker);
    expect(rows).toHaveLength(CLASSES.length * CLASSES.length);
    const answers = Object.fromEntries(rows.map(([, name, , className, answer]) => [`${name} instanceof ${className}`, answer]));
    const expected = Object.fromEntries(
      CLASSES.flatMap((name) => CLASSES.map((className) => [`${name} instanceof ${className}`, isA(name, className)])),
    );
    expect(answers).toEqual(expected);
  });

  test('a UserAuthenticationError is no InvalidClientError of the other copy, and a store error no TokenRequestError', () => {
    expect(result.negatives.userAuthIsNotInvalidClient).toEqual([false, false]);
    expect(result.negatives.storeErrorIsNotTokenRequest).toEqual([false, false]);
  });

  test('a plain Error with a forged code and name, a plain object, null or a string is no OAuthBearerError', () => {
    expect(result.negatives.forgedCode).toEqual([false, false, false]);
    expect(result.negatives.plainObject).toEqual([false, false, false]);
  });

  test('a subclass of yours: another copy\'s base class is not it, while it is the other copy\'s base class', () => {
    expect(result.negatives.otherCopyIsNotYourSubclass).toEqual([false]);
    expect(result.negatives.yourSubclassIsTheOtherCopysClass).toEqual([true, true, true]);
    expect(result.negatives.yourSubclassIsNotASibling).toEqual([false]);
    expect(result.negatives.plainErrorStillWorks).toEqual([true, true]);
  });

  test('the brand is invisible: JSON and util.inspect of an error show no symbol', () => {
    expect(result.printed).not.toContain('axios-oauth-bearer.error');
    expect(result.printed).not.toContain('axios-oauth-bearer:');
  });

  test('a wrong password through the CommonJS copy is an ESM UserAuthenticationError (and no InvalidClientError)', () => {
    expect(result.flow).toEqual({ userAuth: true, base: true, endpoint: true, invalidClient: false, sameCopy: true, name: 'UserAuthenticationError' });
  });

  test('a ConfigurationError thrown by the ESM copy is the CommonJS copy\'s ConfigurationError', () => {
    expect(result.thrown).toEqual([true, false]);
  });
});
