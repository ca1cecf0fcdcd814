/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // Sources import each other as './x.js' (what Node's ESM needs after the build): map that back to the .ts file.
  // The package's own name resolves to the sources, so README examples run as tests exactly as users write them.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^axios-oauth-bearer$': '<rootDir>/src/index.ts',
    '^axios-oauth-bearer/(.*)$': '<rootDir>/src/$1',
  },
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', {}] },
  // p-memoize and mimic-function ship ESM only: let swc turn them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(p-memoize|mimic-function)/)'],
  // Jest's own timers stay real unless a test asks for fake ones.
  testTimeout: 20_000,
};

export default config;
