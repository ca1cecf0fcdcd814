/**
 * Imports flow one way, along the data path: client -> interceptors -> token manager -> grants -> token endpoint ->
 * token response. Read from the sources' own import statements, so a new import against the flow fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

const SRC = path.join(__dirname, '..', 'src');

/** Every .ts file under src/, as a path relative to it (`stores/redis.ts`). */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

/**
 * The relative modules a file imports or re-exports (type-only ones too: they bind the layers as much). JSON is data,
 * not a module of the library: the CLI reads its version from package.json, which the build inlines.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  // TypeScript's own scanner: every quote style, side-effect imports, re-exports, import() and require(); no comments.
  const found = ts.preProcessFile(text, true, true).importedFiles.map((reference) => reference.fileName).filter((name) => name.startsWith('.'));
  return found.filter((specifier) => !specifier.endsWith('.json')).map((specifier) => path.normalize(path.join(path.dirname(file), specifier.replace(/\.js$/, '.ts'))));
}

const files = sources();
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** Everything `file` reaches through its imports. */
function reach(file: string, seen = new Set<string>()): Set<string> {
  for (const next of graph.get(file) ?? []) {
    if (seen.has(next)) continue;
    seen.add(next);
    reach(next, seen);
  }
  return seen;
}

test('every relative import names a source file', () => {
  for (const [file, imports] of graph) for (const target of imports) expect([file, files.includes(target)]).toEqual([file, true]);
});

test('no import cycle', () => {
  const cyclic = files.filter((file) => reach(file).has(file));
  expect(cyclic).toEqual([]);
});

test('along the data path, no module reaches one before it', () => {
  const path = ['client.ts', 'interceptors.ts', 'token-manager.ts', 'token-cache.ts', 'grants.ts', 'token-endpoint.ts', 'token-response.ts'];
  for (const [index, file] of path.entries()) {
    const reached = reach(file);
    expect([file, path.slice(0, index).filter((earlier) => reached.has(earlier))]).toEqual([file, []]);
  }
});

test('the stores and the lower modules never reach the token manager, the interceptors or the grants', () => {
  const upper = ['client.ts', 'interceptors.ts', 'token-manager.ts', 'token-cache.ts', 'grants.ts'];
  const lower = files.filter((file) => file.startsWith('stores/') || ['errors.ts', 'redact.ts', 'options.ts', 'discovery.ts', 'token-endpoint.ts', 'retry.ts'].includes(file));
  for (const file of lower) expect([file, upper.filter((module) => reach(file).has(module))]).toEqual([file, []]);
});

test('the library never imports its tests, its benchmark or its tools', () => {
  for (const [file, imports] of graph) expect([file, imports.filter((target) => target.startsWith('..'))]).toEqual([file, []]);
});
