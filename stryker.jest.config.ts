/** @jest-config-loader esbuild-register */
/**
 * The Jest configuration of `npm run mutate` (stryker.config.mjs): the project's, limited to the suites that test the
 * mutated files, in an environment Stryker can load (helpers/stryker-environment.cjs).
 */
import path from 'node:path';

import type { Config } from 'jest';

import base from './jest.config';

/**
 * The suites that matter for src/stores/shared-renewal.ts, src/origins.ts and src/redact.ts, and only fast ones: a
 * mutant of a module-level constant is "static" (it runs when the module loads, before any test), so Stryker runs
 * every listed test for it, and a suite that waits on real time or a real Redis (store-contract.test.ts,
 * shared-renewal.test.ts) would cost its whole duration for each. renew-shared.test.ts drives the renewal protocol
 * branch by branch on a fake clock; store-contract.test.ts runs in `npm test`.
 */
export const MUTATION_SUITES = ['__tests__/renew-shared.test.ts', '__tests__/origins.test.ts', '__tests__/redaction.test.ts'];

const config: Config = {
  ...base,
  // Stryker reads this file without Jest's normalisation: paths are absolute, not <rootDir>-relative.
  rootDir: __dirname,
  testEnvironment: path.join(__dirname, '__tests__', 'helpers', 'stryker-environment.cjs'),
  testMatch: undefined,
  testRegex: MUTATION_SUITES.map((file) => `${file.replace(/[.]/g, '\\.')}$`),
};

export default config;
