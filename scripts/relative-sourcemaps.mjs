#!/usr/bin/env node
// @ts-check
/**
 * Run by tsup after each build (`onSuccess` of the library's tsup config in package.json): makes the CommonJS
 * sourcemaps in dist/ independent of the folder the package was built in.
 *
 * Why: tsup builds CommonJS with code splitting by emitting ES modules and converting each file with sucrase
 * (its cjs-splitting plugin). sucrase names the file it converts by its absolute path, and when tsup merges that map
 * into esbuild's, the lines sucrase added ('use strict', the require() of each chunk) keep pointing at that path: each
 * *.cjs.map got the absolute path of its own .cjs in `sources` and in `file`. Nothing in tsup's JSON configuration
 * reaches that pass (esbuild's `sourceRoot` is not it; `treeshake` would replace sucrase with rollup for every format,
 * changing the code users run and doubling the build). So this rewrites every absolute path in `sources`, `file` and
 * `sourceRoot` to the path relative to the map's own folder (`index.cjs`, `../src/client.ts`), which is what esbuild
 * writes for everything else. The mappings are not touched. `npm run check:package` (scripts/check-tarball.mjs)
 * fails if any shipped file still holds the build folder's path.
 *
 * Only *.cjs.map files: the ES module build has no such pass, and the CLI's build (another tsup config, ESM only)
 * may still be writing its files while this runs.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');

/** @param {string} dir @returns {string[]} */
function mapsUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.cjs.map'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** A path relative to the map's folder, with forward slashes, as sourcemaps write them. @param {string} from @param {string} to */
const relative = (from, to) => path.relative(from, to).split(path.sep).join('/') || '.';

let rewritten = 0;
for (const file of mapsUnder(dist)) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const dir = path.dirname(file);
  let changed = false;
  /** @param {unknown} value */
  const fix = (value) => {
    if (typeof value !== 'string' || !path.isAbsolute(value)) return value;
    changed = true;
    return relative(dir, value);
  };
  if (Array.isArray(map.sources)) map.sources = map.sources.map(fix);
  if ('file' in map) map.file = fix(map.file);
  if ('sourceRoot' in map) map.sourceRoot = fix(map.sourceRoot);
  if (!changed) continue;
  writeFileSync(file, JSON.stringify(map));
  rewritten += 1;
}
process.stderr.write(`relative-sourcemaps: ${rewritten} CommonJS sourcemap(s) in ${relative(root, dist)}/ made independent of the build folder\n`);
