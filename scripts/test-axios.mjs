#!/usr/bin/env node
// @ts-check
/**
 * npm run test:axios [-- <version>...]
 *
 * Runs the core suites (from the sources, not the build) against each axios of the matrix: the lowest version the
 * peer range allows and the newest 1.x. Each version is installed from the npm registry into a cache under
 * node_modules/ and mapped in by jest.config.ts (AXIOS_UNDER_TEST); every suite checks that the axios it loaded is
 * the requested one (AXIOS_EXPECTED_VERSION). Exits non-zero if any version fails. Progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The floor of `peerDependencies.axios` and the newest 1.x on the registry (`npm view axios dist-tags`). */
const MATRIX = ['1.20.0', '1.21.1'];
/** Installed, not tested: __tests__/axios-support.test.ts proves that assertSupportedAxios (called by attachAuth) refuses their instances. */
const UNSUPPORTED = ['0.27.2', '0.35.0', '1.0.0', '1.19.0'];
/** Jest path patterns: the core suites, and any suite named axios-* or redirect*. */
const SUITES = [
  '__tests__/(redaction|client|storms|origins|property)\\.test\\.ts$',
  '__tests__/axios-',
  '__tests__/redirect',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'axios-matrix');

/** @param {string} message */
const log = (message) => process.stderr.write(`[test:axios] ${message}\n`);

/**
 * Installs axios@version into the cache (once), checks what landed there, and returns its package directory.
 * @param {string} version
 */
function install(version) {
  const prefix = path.join(cacheDir, version);
  const dir = path.join(prefix, 'node_modules', 'axios');
  if (!existsSync(path.join(dir, 'package.json'))) {
    log(`installing axios@${version} into ${path.relative(root, prefix)}`);
    mkdirSync(prefix, { recursive: true });
    writeFileSync(path.join(prefix, 'package.json'), '{ "private": true }\n');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--ignore-scripts'];
    const result = spawnSync(npm, [...args, '--no-audit', '--no-fund', '--loglevel=error', `axios@${version}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (result.status !== 0) throw new Error(`npm install axios@${version} failed`);
  }
  /** @type {{ VERSION?: unknown }} */
  const loaded = createRequire(path.join(prefix, 'package.json'))('axios');
  if (loaded.VERSION !== version) throw new Error(`${dir} holds axios ${String(loaded.VERSION)}, not ${version}`);
  return dir;
}

/** The matrix's floor must be the floor of the declared peer range. */
function checkPeerRange() {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const range = pkg.peerDependencies?.axios;
  if (range !== `^${MATRIX[0]}`) throw new Error(`peerDependencies.axios is ${range}, but the matrix floor is ${MATRIX[0]}`);
}

function main() {
  const requested = process.argv.slice(2);
  if (requested.length === 0) checkPeerRange();
  const versions = requested.length > 0 ? requested : MATRIX;
  for (const version of UNSUPPORTED) install(version);
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  /** @type {string[]} */
  const failed = [];
  for (const version of versions) {
    const dir = install(version);
    log(`axios ${version}: running ${SUITES.join(' ')}`);
    const started = Date.now();
    const result = spawnSync(process.execPath, [jest, '--ci', ...SUITES], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, AXIOS_UNDER_TEST: dir, AXIOS_EXPECTED_VERSION: version, AXIOS_UNSUPPORTED: UNSUPPORTED.join(',') },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log(`axios ${version}: ${result.status === 0 ? 'passed' : 'FAILED'} in ${seconds} s`);
    if (result.status !== 0) failed.push(version);
  }
  if (failed.length > 0) {
    log(`failed with axios ${failed.join(', ')}`);
    process.exit(1);
  }
  log(`all passed: axios ${versions.join(', ')}`);
}

main();
