/** @jest-config-loader esbuild-register */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import type { Config } from 'jest';

import { checkRequirements, exactPathPattern } from './__tests__/helpers/server-requirements';
import { NOTICE_VARIABLE } from './__tests__/helpers/skip-notice';

/**
 * `AXIOS_UNDER_TEST=/abs/dir/node_modules/axios` runs the suites against that copy of axios instead of the
 * devDependency: `^axios$` is mapped to its entry point, so the sources, axios-auth-refresh and the tests all load that
 * one copy (what `npm run test:axios` does; see scripts/test-axios.mjs). The entry is found the way Node's `require`
 * finds it (package `exports`, else `main`), and must lie inside that directory: a typo never falls back to the
 * default axios. With `AXIOS_EXPECTED_VERSION` set too, every suite checks the `axios.VERSION` it really loaded.
 */
function axiosUnderTest(dir: string): Record<string, string> {
  const root = realpathSync(path.resolve(dir));
  if (path.basename(root) !== 'axios' || path.basename(path.dirname(root)) !== 'node_modules') {
    throw new Error(`AXIOS_UNDER_TEST must be a .../node_modules/axios directory, got ${root}`);
  }
  const entry = createRequire(path.join(path.dirname(root), 'package.json')).resolve('axios');
  if (!entry.startsWith(root + path.sep)) {
    throw new Error(`AXIOS_UNDER_TEST=${root}: axios resolved outside it, to ${entry}`);
  }
  return { '^axios$': entry };
}

const underTest = process.env.AXIOS_UNDER_TEST;

/**
 * A machine without redis-server (a fresh clone) leaves out the suites that need it, and one line at the end of the
 * run says which and how to install it; with `CI` set nothing is left out, so CI fails instead
 * (__tests__/helpers/server-requirements.ts finds the files by their imports: they carry no skip logic).
 */
const requirements = checkRequirements({ rootDir: __dirname, ignoredDirs: [path.join(__dirname, '__tests__', 'interop')] });
if (requirements.notice !== undefined) process.env[NOTICE_VARIABLE] = requirements.notice;

// npm run test:node (scripts/test-node.mjs) puts another Node first on PATH: make sure this is the one it asked for.
const expectedNode = process.env.NODE_MATRIX_EXPECTED;
if (expectedNode !== undefined && expectedNode !== '' && expectedNode !== process.version) {
  throw new Error(`Node matrix: expected Node ${expectedNode}, but Jest runs on ${process.version} (${process.execPath})`);
}

const config: Config = {
  // Node's environment, plus a guard: a file that leaves http/https/fetch patched (nock not restored) fails, and the
  // next file in the worker gets them back unpatched.
  testEnvironment: '<rootDir>/__tests__/helpers/isolated-environment.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/skip-notice.ts',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // The real authorization servers have a suite and an install step of their own: npm run test:interop.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/__tests__/interop/', ...requirements.skipped.map(exactPathPattern)],
  // Sources import each other as './x.js' (what Node's ESM needs after the build): map that back to the .ts file.
  // The package's own name resolves to the sources, so README examples run as tests exactly as users write them.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^axios-oauth-bearer$': '<rootDir>/src/index.ts',
    '^axios-oauth-bearer/(.*)$': '<rootDir>/src/$1',
    ...(underTest === undefined || underTest === '' ? {} : axiosUnderTest(underTest)),
  },
  ...(process.env.AXIOS_EXPECTED_VERSION ? { setupFilesAfterEnv: ['<rootDir>/scripts/jest-axios-version.cjs'] } : {}),
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', {}] },
  // p-memoize and mimic-function ship ESM only: let swc turn them into CommonJS for Jest. So does
  // @badgateway/oauth2-client, a peer the benchmark compares with (bench/peer-clients.ts, __tests__/bench-peers.test.ts).
  transformIgnorePatterns: ['/node_modules/(?!(p-memoize|mimic-function|@badgateway/oauth2-client)/)'],
  // Jest's own timers stay real unless a test asks for fake ones.
  testTimeout: 20_000,
};

export default config;
