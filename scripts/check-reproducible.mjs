#!/usr/bin/env node
// @ts-check
/**
 * npm run check:reproducible [-- --npm-ci] [-- --keep]
 *
 * Is the tarball reproducible? Clones this repository's HEAD twice, at two different absolute paths of different
 * lengths (uncommitted changes are not in the clones), builds each (`npm run build`) and packs each (`npm pack`,
 * which already sets every file's mtime to a fixed date), then compares the two tarballs byte for byte. When they
 * differ it names the files whose contents differ. Then scripts/check-tarball.mjs checks one of them with both build
 * folders as forbidden paths.
 *
 * Each clone gets its node_modules as hard links to this repository's (without node_modules/.cache: seconds, no
 * network), so both build with exactly the installed tools; --npm-ci runs `npm ci` in each instead, as a fresh
 * machine would (minutes). Prints the tarballs' sha256 and the time taken on stderr; exit code 1 if they differ.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const started = Date.now();

/** @param {string} message */
const log = (message) => process.stderr.write(`[check:reproducible] ${message} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

/** @param {string} command @param {string[]} args @param {string} cwd */
function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** As run(), without blocking, so the two clones build side by side. @param {string} command @param {string[]} args @param {string} cwd */
function runAsync(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${output}`))));
  });
}

/** node_modules for a clone: hard links to ours (a copy where the file system refuses links), or `npm ci`. @param {string} dir */
async function install(dir) {
  if (argv.includes('--npm-ci')) {
    await runAsync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], dir);
    return;
  }
  const from = path.join(root, 'node_modules');
  const to = path.join(dir, 'node_modules');
  mkdirSync(to);
  const entries = readdirSync(from).filter((entry) => entry !== '.cache');
  const linked = spawnSync('cp', ['-al', ...entries.map((entry) => path.join(from, entry)), to], { stdio: 'ignore' });
  if (linked.status !== 0) for (const entry of entries) cpSync(path.join(from, entry), path.join(to, entry), { recursive: true, verbatimSymlinks: true });
}

/** @param {string} dir @param {string} out @returns {Promise<string>} the tarball's path */
async function buildAndPack(dir, out) {
  await install(dir);
  await runAsync('npm', ['run', 'build', '--silent'], dir);
  mkdirSync(out);
  const [packed] = JSON.parse(await runAsync('npm', ['pack', '--json', '--ignore-scripts', '--loglevel=error', '--pack-destination', out], dir));
  return path.join(out, packed.filename);
}

/** @param {string} dir @returns {Map<string, Buffer>} */
function contents(dir) {
  return new Map(
    readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => [path.relative(dir, path.join(entry.parentPath, entry.name)), readFileSync(path.join(entry.parentPath, entry.name))]),
  );
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'axios-oauth-bearer-repro-'));
  // Two build folders that differ in name and in length (a path's length can change what a bundler writes).
  const a = path.join(work, 'a');
  const b = path.join(work, 'second', 'clone-b');
  try {
    const head = run('git', ['rev-parse', 'HEAD'], root).trim();
    for (const dir of [a, b]) run('git', ['clone', '--quiet', root, dir], work);
    log(`cloned HEAD ${head.slice(0, 12)} into ${a} and ${b}`);
    const [tarA, tarB] = await Promise.all([buildAndPack(a, path.join(work, 'pack-a')), buildAndPack(b, path.join(work, 'pack-b'))]);
    const bytesA = readFileSync(tarA);
    const bytesB = readFileSync(tarB);
    const sha = (/** @type {Buffer} */ bytes) => createHash('sha256').update(bytes).digest('hex');
    log(`built and packed both: ${path.basename(tarA)} ${bytesA.length} and ${bytesB.length} bytes, sha256 ${sha(bytesA).slice(0, 16)} and ${sha(bytesB).slice(0, 16)}`);
    let failed = false;
    if (bytesA.equals(bytesB)) {
      log('the two tarballs are identical, byte for byte');
    } else {
      failed = true;
      for (const [tar, dir] of [[tarA, 'unpacked-a'], [tarB, 'unpacked-b']]) {
        mkdirSync(path.join(work, dir));
        run('tar', ['-xzf', tar, '-C', path.join(work, dir)], work);
      }
      const filesA = contents(path.join(work, 'unpacked-a'));
      const filesB = contents(path.join(work, 'unpacked-b'));
      const names = [...new Set([...filesA.keys(), ...filesB.keys()])].sort();
      const differing = names.filter((name) => !(filesA.get(name)?.equals(filesB.get(name) ?? Buffer.alloc(0)) ?? false));
      log(`FAIL the tarballs differ${differing.length === 0 ? ' (in the archive only: order, modes or headers)' : `, in ${differing.length} file(s):`}`);
      for (const name of differing) {
        const where = !filesA.has(name) ? 'only in the second' : !filesB.has(name) ? 'only in the first' : 'contents differ';
        process.stderr.write(`    ${name}: ${where}\n`);
      }
    }
    const checked = spawnSync(process.execPath, [path.join(root, 'scripts', 'check-tarball.mjs'), '--tarball', tarB, '--build-dir', a, '--build-dir', b], { stdio: 'inherit' });
    if (checked.status !== 0) failed = true;
    log(failed ? 'FAILED' : 'reproducible');
    if (failed) process.exitCode = 1;
  } finally {
    if (argv.includes('--keep')) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
