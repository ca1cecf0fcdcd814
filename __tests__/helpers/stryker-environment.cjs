/**
 * The test environment under Stryker (stryker.jest.config.ts): isolated-environment.ts, loaded so Stryker can load it,
 * and repairing without failing.
 *
 * Stryker's jest-runner wraps the configured environment to learn which test covers which mutant, and loads it with a
 * plain `require()`, which cannot read TypeScript (Jest itself transforms it with @swc/jest): esbuild-register is on
 * for that one require.
 *
 * For each mutant Stryker runs only the tests that cover it (a test name pattern), so a file can run with all of its
 * tests filtered out: its afterAll never runs, while its imports did (nock patches http on import). The guard would
 * fail such a file for a leak that is Stryker's doing; here it still puts everything back for the next file, and does
 * not fail it. `npm test` keeps the failing guard.
 */
const { register } = require('esbuild-register/dist/node');

const { unregister } = register({ target: `node${process.versions.node}` });
let IsolatedEnvironment;
try {
  IsolatedEnvironment = require('./isolated-environment.ts').default;
} finally {
  unregister();
}

class RepairingEnvironment extends IsolatedEnvironment {
  handleTestEvent(event, state) {
    // The guard reports a leak into state.unhandledErrors: give it a list of its own, and drop what it says.
    return super.handleTestEvent(event, { ...state, unhandledErrors: [] });
  }

  async teardown() {
    try {
      await super.teardown();
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('This test file left '))) throw error;
    }
  }
}

module.exports = RepairingEnvironment;
