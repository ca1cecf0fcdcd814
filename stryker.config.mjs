// @ts-check
/**
 * Mutation testing (`npm run mutate`): Stryker changes src/stores/shared-renewal.ts, src/origins.ts and src/redact.ts
 * one small edit at a time and runs the suites that test them (stryker.jest.config.ts); a mutant no test notices is a
 * behaviour no test pins. Equivalent mutants are listed in __tests__/mutation/equivalent-mutants.md. Not part of CI.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'jest',
  // Every listed suite is loaded for every mutant; perTest coverage runs only the tests that reach the mutant.
  jest: { configFile: 'stryker.jest.config.ts', enableFindRelatedTests: false },
  mutate: ['src/stores/shared-renewal.ts', 'src/origins.ts', 'src/redact.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // The sandbox is a copy of the project: leave out what the suites never read.
  ignorePatterns: ['dist', 'docs', 'coverage', 'reports', '.exp', 'api', '*.tgz'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // A mutant that makes a wait endless (a removed deadline) is a timeout, which counts as killed.
  timeoutMS: 10_000,
  thresholds: { high: 100, low: 95, break: null },
};
