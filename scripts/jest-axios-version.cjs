// @ts-check
/* Loaded by jest.config.ts when AXIOS_EXPECTED_VERSION is set (npm run test:axios): fails every test of a suite whose
 * `require('axios')` is not the requested version, so a matrix can never silently run the default axios. It runs in
 * beforeAll, after the suite's own imports, so it adds no import of axios ahead of the suite's (nock is loaded first
 * where a suite says so). */
beforeAll(() => {
  const expected = process.env.AXIOS_EXPECTED_VERSION;
  /** @type {{ VERSION?: unknown }} */
  const axios = require('axios');
  if (axios.VERSION !== expected) {
    throw new Error(`axios matrix: expected axios ${expected}, but this suite loaded axios ${String(axios.VERSION)}`);
  }
});
