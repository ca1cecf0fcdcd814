#!/usr/bin/env node
// @ts-check
/**
 * node scripts/check-tarball.mjs [--tarball FILE] [--build-dir DIR]... [--keep]
 *
 * What `npm pack` would publish, checked file by file (run by `npm run check:package`, after the build). It fails when:
 *
 * 1. A file in the tarball is reached by nothing. Reached are package.json, README.md and LICENSE, every target of
 *    `exports`, `bin`, `main`, `module`, `types`/`typings` and `typesVersions`, and, from each reached file, what it
 *    links to: the relative imports, re-exports, require() and import() with a literal specifier of a .js/.cjs/.mjs
 *    file (read with TypeScript's preProcessFile, so comments do not count), its `//# sourceMappingURL`, and the
 *    relative imports and `/// <reference path>` of a declaration file (`./x.js` is `./x.d.ts`, `./x.cjs` is
 *    `./x.d.cts`). So a build output that no entry point loads (a second format of the CLI, a script the
 *    benchmark runs) cannot ship unnoticed. A relative link to a file that is not in the tarball fails too.
 * 2. A shipped file loads, by a bare specifier, a package that is neither a Node built-in, nor in `dependencies`,
 *    `peerDependencies` or `optionalDependencies`, nor the package itself: what users would not have installed
 *    (p-memoize and mimic-function are bundled and must stay so).
 * 3. A file holds the absolute path of the folder it was built in (this repository's path, its real path, and any
 *    --build-dir), or a sourcemap names an absolute path in `sources`, `file` or `sourceRoot`: the tarball would
 *    differ from one machine to the next and tell the world a build machine's layout.
 * 4. A sourcemap shows code bundled from node_modules (its `sources`) of a package whose license file is not in the
 *    tarball's LICENSE word for word, or that is also in `dependencies` (users would install a copy they never run).
 *
 * Without --tarball it packs the current build (`npm pack`, no build: run it after `npm run build`). Prints one line
 * per problem and a summary on stderr; exit code 1 if anything failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
/** @type {typeof import('typescript')} */
const ts = require('typescript');

/** Files npm always ships and nothing needs to reach. */
const ALWAYS = ['package.json', 'README.md', 'LICENSE'];

/** @param {string} message */
const log = (message) => process.stderr.write(`[check:tarball] ${message}\n`);

const argv = process.argv.slice(2);
/** @param {string} flag @returns {string[]} */
const values = (flag) => argv.flatMap((arg, i) => (arg === flag && argv[i + 1] !== undefined ? [/** @type {string} */ (argv[i + 1])] : []));

/** @param {string} command @param {string[]} args @param {string} cwd */
function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** All files below dir, as tarball paths (forward slashes). @param {string} dir @returns {string[]} */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

/** The string leaves of an exports/typesVersions value. @param {unknown} value @returns {string[]} */
function leaves(value) {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [];
}

/** `./dist/x.js` → `dist/x.js`. @param {string} target */
const normalize = (target) => path.posix.normalize(target.replace(/^\.\//, ''));

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). @param {string} specifier */
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * @param {string} packageDir the unpacked tarball's package/ folder
 * @param {string[]} buildDirs absolute paths no file may contain
 * @returns {{ problems: string[], files: string[], reached: Set<string>, bundled: Map<string, Set<string>> }}
 */
function check(packageDir, buildDirs) {
  /** @type {string[]} */
  const problems = [];
  const files = filesUnder(packageDir);
  const inTarball = new Set(files);
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const allowedPackages = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);

  // The entry points.
  /** @type {{ file: string, why: string }[]} */
  const queue = [];
  /** @type {Map<string, string>} */
  const reachedBy = new Map();
  /** @param {string} file @param {string} why */
  const reach = (file, why) => {
    if (reachedBy.has(file)) return;
    reachedBy.set(file, why);
    queue.push({ file, why });
  };
  for (const file of ALWAYS) {
    if (inTarball.has(file)) reach(file, 'always shipped');
    else problems.push(`${file} is not in the tarball`);
  }
  /** @param {string} target @param {string} field */
  const entry = (target, field) => {
    if (target.includes('*')) {
      const pattern = new RegExp(`^${normalize(target).split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      const matched = files.filter((file) => pattern.test(file));
      if (matched.length === 0) problems.push(`${field} ${target} matches no file in the tarball`);
      for (const file of matched) reach(file, field);
      return;
    }
    const file = normalize(target);
    if (!inTarball.has(file)) problems.push(`${field} points to ${target}, which is not in the tarball`);
    else reach(file, field);
  };
  for (const [key, value] of Object.entries(manifest.exports ?? {})) for (const target of leaves(value)) entry(target, `exports["${key}"]`);
  const bin = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, target] of Object.entries(bin)) entry(String(target), `bin.${name}`);
  for (const field of ['main', 'module', 'types', 'typings']) if (typeof manifest[field] === 'string') entry(manifest[field], field);
  for (const [range, map] of Object.entries(manifest.typesVersions ?? {})) {
    for (const [key, targets] of Object.entries(/** @type {Record<string, unknown>} */ (map))) for (const target of leaves(targets)) entry(target, `typesVersions["${range}"]["${key}"]`);
  }

  // Follow the links.
  /** @type {Map<string, Set<string>>} bundled package → the shipped sourcemaps showing its code */
  const bundled = new Map();
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const { file } = next;
    const text = readFileSync(path.join(packageDir, file), 'utf8');
    const dir = path.posix.dirname(file);
    const isDeclaration = /\.d\.[cm]?ts$/.test(file);
    if (/\.[cm]?js$/.test(file) || isDeclaration) {
      const info = ts.preProcessFile(text, true, true);
      const specifiers = [...info.importedFiles.map((ref) => ref.fileName), ...info.referencedFiles.map((ref) => (ref.fileName.startsWith('.') ? ref.fileName : `./${ref.fileName}`))];
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('/')) {
          const target = resolveRelative(dir, specifier, isDeclaration, inTarball);
          if (target === undefined) problems.push(`${file} links to ${specifier}, which is not in the tarball`);
          else reach(target, `linked from ${file}`);
        } else if (!builtins.has(specifier) && !allowedPackages.has(packageOf(specifier))) {
          problems.push(`${file} loads "${specifier}", which users do not install (not a dependency, peer or Node built-in)${isDeclaration ? ' (a type import)' : ''}`);
        }
      }
      for (const directive of info.typeReferenceDirectives) {
        const name = directive.fileName;
        if (name !== 'node' && !allowedPackages.has(name) && !allowedPackages.has(`@types/${name}`)) problems.push(`${file} references types "${name}", which users do not install`);
      }
      const mapLink = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
      if (mapLink !== undefined && !mapLink.startsWith('data:')) {
        const target = path.posix.join(dir, mapLink);
        if (!inTarball.has(target)) problems.push(`${file} names the sourcemap ${mapLink}, which is not in the tarball`);
        else reach(target, `sourcemap of ${file}`);
      }
    }
    if (file.endsWith('.map')) {
      const map = JSON.parse(text);
      for (const [field, value] of [['file', map.file], ['sourceRoot', map.sourceRoot], ...(map.sources ?? []).map((/** @type {unknown} */ source) => ['sources', source])]) {
        if (typeof value === 'string' && (path.posix.isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value) || value.startsWith('file:'))) {
          problems.push(`${file}: ${field} names the absolute path ${value}`);
        }
      }
      for (const source of map.sources ?? []) {
        if (typeof source !== 'string') continue;
        const at = source.lastIndexOf('node_modules/');
        if (at < 0) continue;
        const name = packageOf(source.slice(at + 'node_modules/'.length));
        bundled.set(name, (bundled.get(name) ?? new Set()).add(file));
      }
    }
  }

  for (const file of files) if (!reachedBy.has(file)) problems.push(`${file} is in the tarball, but no entry point, bin or reached file links to it`);

  // No absolute build paths, in any file.
  const needles = [...new Set(buildDirs)].filter((dir) => dir.length > 1);
  for (const file of files) {
    const text = readFileSync(path.join(packageDir, file), 'latin1');
    for (const needle of needles) if (text.includes(needle)) problems.push(`${file} contains the build folder's path ${needle}`);
  }

  // Bundled third-party code: its license ships, and users do not install it as well.
  const license = inTarball.has('LICENSE') ? squash(readFileSync(path.join(packageDir, 'LICENSE'), 'utf8')) : '';
  for (const [name, maps] of bundled) {
    const where = `bundled into ${[...maps].slice(0, 2).join(', ')}${maps.size > 2 ? ` and ${maps.size - 2} more` : ''}`;
    if (manifest.dependencies?.[name] !== undefined) problems.push(`${name} is ${where} and also in dependencies: users install a copy that nothing loads`);
    const own = licenseOf(name);
    if (own === undefined) problems.push(`${name} is ${where}, and node_modules/${name} has no license file to compare LICENSE with: check its terms by hand`);
    else if (!license.includes(squash(own.text))) problems.push(`${name} is ${where}, but LICENSE does not hold node_modules/${name}/${own.file} word for word`);
  }
  return { problems, files, reached: new Set(reachedBy.keys()), bundled };
}

/** Whitespace-insensitive form of a license text (line wrapping differs between copies). @param {string} text */
const squash = (text) => text.replace(/\s+/g, ' ').trim();

/** The license file of an installed package, if it has one. @param {string} name */
function licenseOf(name) {
  const dir = path.join(root, 'node_modules', name);
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).find((entry) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(entry));
  return file === undefined ? undefined : { file, text: readFileSync(path.join(dir, file), 'utf8') };
}

/**
 * The tarball file a relative specifier names, or undefined. A declaration's `./x.js` is `./x.d.ts` (`.cjs` →
 * `.d.cts`, `.mjs` → `.d.mts`); a require() may leave out the extension.
 * @param {string} dir @param {string} specifier @param {boolean} isDeclaration @param {Set<string>} inTarball
 */
function resolveRelative(dir, specifier, isDeclaration, inTarball) {
  const base = path.posix.join(dir, specifier);
  const candidates = isDeclaration
    ? [base.replace(/\.js$/, '.d.ts'), base.replace(/\.cjs$/, '.d.cts'), base.replace(/\.mjs$/, '.d.mts'), `${base}.d.ts`, `${base}/index.d.ts`, base]
    : [base, `${base}.js`, `${base}.cjs`, `${base}/index.js`];
  return candidates.find((candidate) => inTarball.has(candidate));
}

function main() {
  const keep = argv.includes('--keep');
  const work = mkdtempSync(path.join(os.tmpdir(), 'axios-oauth-bearer-tarball-'));
  try {
    let [tarball] = values('--tarball');
    if (tarball === undefined) {
      if (!existsSync(path.join(root, 'dist'))) throw new Error('dist/ is missing: npm run build first (npm run check:package does)');
      const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root));
      tarball = path.join(work, packed.filename);
    }
    const unpacked = path.join(work, 'unpacked');
    mkdirSync(unpacked);
    run('tar', ['-xzf', path.resolve(tarball), '-C', unpacked], root);
    const packageDir = path.join(unpacked, 'package');
    const buildDirs = [root, realpathSync(root), ...values('--build-dir').map((dir) => path.resolve(dir))];
    const { problems, files, bundled } = check(packageDir, buildDirs);
    for (const problem of problems) log(`FAIL ${problem}`);
    const bundledText = bundled.size === 0 ? 'no bundled packages' : `bundled: ${[...bundled.keys()].join(', ')}`;
    log(`${path.basename(tarball)}: ${files.length} files, ${problems.length === 0 ? 'every one reached from package.json' : `${problems.length} problem(s)`}; ${bundledText}`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    if (keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main();
