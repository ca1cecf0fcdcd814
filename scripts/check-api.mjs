#!/usr/bin/env node
/**
 * The public surface as a reviewed diff: API Extractor reads the built declarations of each entry point (dist/, so
 * run the build first) and compares them with the committed report in api/<entry>.api.md. A difference fails, and
 * the new report is left in node_modules/.cache/api-extractor/ for review; `npm run api:update` (this script with
 * --update) writes the reports instead, for a change that is meant.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES = ['index', 'redis', 'file', 'opentelemetry', 'testing', 'testing-server'];
const update = process.argv.includes('--update');
const failed = [];
for (const entry of ENTRIES) {
  process.stderr.write(`api: ${entry} ... `);
  const args = ['api-extractor', 'run', '-c', `api/${entry}.api-extractor.json`, ...(update ? ['--local'] : [])];
  try {
    execFileSync('npx', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    process.stderr.write(update ? 'written\n' : 'unchanged\n');
  } catch (error) {
    process.stderr.write('CHANGED or failed\n');
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    process.stderr.write(output.split('\n').filter((line) => /Warning|Error/.test(line)).join('\n') + '\n');
    failed.push(entry);
  }
}
if (failed.length > 0) {
  process.stderr.write(
    `\nThe public API of ${failed.join(', ')} differs from api/*.api.md. If the change is meant, run \`npm run api:update\` ` +
      'and commit the reports with it; if not, undo it.\n',
  );
  process.exit(1);
}
