/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

/**
 * The interop suite (`npm run test:interop`): the library against real authorization servers that the tests install
 * (scripts/interop-install.sh) and start themselves on 127.0.0.1. Kept out of `npm test`, which stays fast and needs
 * no Debian package. The transform and module mapping are jest.config.ts's, so the sources run exactly as there.
 */
const config: Config = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/__tests__/interop'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^axios-oauth-bearer$': '<rootDir>/src/index.ts',
    '^axios-oauth-bearer/(.*)$': '<rootDir>/src/$1',
  },
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', {}] },
  // p-memoize and mimic-function ship ESM only: let swc turn them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(p-memoize|mimic-function)/)'],
  // A server start (migrations included) takes a second or two; a storm with retries a few more. Generous, so a slow
  // machine fails on an assertion rather than on the clock.
  testTimeout: 60_000,
  // One file per concern, each with its own servers: two workers for the two cores.
  maxWorkers: 2,
};

export default config;
