#!/usr/bin/env node
/**
 * The `axios-oauth-bearer` executable (package.json `bin`). Only wiring: the command itself lives in
 * ./token-command.ts, where tests run it in-process.
 */
import { run } from './token-command.js';

// exitCode rather than process.exit(): exiting at once could cut off a token still being written to a pipe.
// A promise chain rather than top-level await: the same file is also built as CommonJS, which has none.
run(process.argv.slice(2), { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    // run() never rejects; if it ever does, say nothing more than this, since the error could hold a secret.
    process.stderr.write('axios-oauth-bearer: unexpected failure\n');
    process.exitCode = 1;
  },
);
