/**
 * How `npm test` finds the suites that need redis-server (helpers/server-requirements.ts, read by jest.config.ts):
 * by their imports, so the test files carry no skip logic; on a machine without it they are left out with one line
 * that says so; with CI set they are never left out.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { checkRequirements, exactPathPattern, filesNeeding, isCI, REQUIREMENTS, testFiles } from './helpers/server-requirements.js';

const root = path.resolve(__dirname, '..');
const redis = REQUIREMENTS[0]!;
const relative = (files: readonly string[]): string[] => files.map((file) => path.relative(root, file));

test('finds the suites of this repository that start a redis-server, directly or through a helper', () => {
  const files = testFiles(path.join(root, '__tests__'), [path.join(root, '__tests__', 'interop')]);
  const needing = relative(filesNeeding(redis, root, files));
  // Through helpers/redis-server.ts (which imports src/testing/redis-process.ts), and by name.
  expect(needing).toEqual(expect.arrayContaining(['__tests__/redis-store.test.ts', '__tests__/shared-cooldown.test.ts', '__tests__/credential-binding.test.ts']));
  for (const file of needing) expect(file).toMatch(/^__tests__\/[^/]+\.test\.ts$/);
  // The benchmark's quick mode reports its Redis scenario as skipped by itself; plain suites need nothing.
  expect(needing).not.toContain('__tests__/bench-quick.test.ts');
  expect(needing).not.toContain('__tests__/memory-store.test.ts');
  expect(needing).not.toContain('__tests__/server-requirements.test.ts');
});

describe('on a scratch tree', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'requirements-'));
    const write = (file: string, text: string): void => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    };
    // Spelled through `from()` so that this file's own source does not look like it imports them.
    const quote = "'";
    const from = (specifier: string): string => `from ${quote}${specifier}${quote};\n`;
    write('src/testing/redis-process.ts', 'export const launchRedis = 1;\n');
    write('bench/quick.ts', `import { launchRedis } ${from('../src/testing/redis-process.js')}`);
    write('__tests__/helpers/deep.ts', `export { launchRedis } ${from('../../src/testing/redis-process.js')}`);
    write('__tests__/helpers/mid.ts', `import { launchRedis } ${from('./deep.js')}import { plain } ${from('./mid.js')}`);
    write('__tests__/through-helpers.test.ts', `import { launchRedis } ${from('./helpers/mid.js')}`);
    write('__tests__/direct.test.ts', `const p = await import(${quote}../src/testing/redis-process.js${quote});\n`);
    write('__tests__/redis-by-name.test.ts', "test('x', () => undefined);\n");
    write('__tests__/via-bench.test.ts', `import { launchRedis } ${from('../bench/quick.js')}`);
    write('__tests__/plain.test.ts', `import { plain } ${from('./helpers/mid-missing.js')}`);
    write('__tests__/interop/redis-x.test.ts', "test('x', () => undefined);\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (ci: boolean, has: (binary: string) => boolean) =>
    checkRequirements({ rootDir: dir, ignoredDirs: [path.join(dir, '__tests__', 'interop')], ci, has });

  test('with redis-server and redis-cli installed nothing is skipped and nothing is printed', () => {
    expect(check(false, () => true)).toEqual({ skipped: [], notice: undefined });
  });

  test('without them the suites that need them are skipped, with one line saying which and how to install it', () => {
    const result = check(false, (binary) => binary !== 'redis-server');
    expect(result.skipped.map((file) => path.relative(dir, file))).toEqual([
      '__tests__/direct.test.ts',
      '__tests__/redis-by-name.test.ts',
      '__tests__/through-helpers.test.ts',
    ]);
    expect(result.notice?.split('\n')).toHaveLength(1);
    expect(result.notice).toMatch(/^SKIPPED 3 test files that need redis-server \(redis-server not on PATH\): __tests__\/direct\.test\.ts, /);
    expect(result.notice).toContain('apt-get install redis-server');
  });

  test('with CI set nothing is skipped, and the line says they fail', () => {
    const result = check(true, () => false);
    expect(result.skipped).toEqual([]);
    expect(result.notice).toMatch(/^CI is set and redis-server and redis-cli are not on PATH: the 3 test files that need redis-server are not skipped in CI, so they fail: /);
  });
});

test('CI is read as Jest reads it', () => {
  expect(isCI({ CI: 'true' })).toBe(true);
  expect(isCI({ CI: '1' })).toBe(true);
  expect(isCI({ CI: 'false' })).toBe(false);
  expect(isCI({ CI: '0' })).toBe(false);
  expect(isCI({})).toBe(false);
});

test('an ignore pattern matches exactly one path', () => {
  const pattern = new RegExp(exactPathPattern('/a/redis-store.test.ts'));
  expect(pattern.test('/a/redis-store.test.ts')).toBe(true);
  expect(pattern.test('/a/redis-storeXtest.ts')).toBe(false);
  expect(pattern.test('/b/a/redis-store.test.ts')).toBe(false);
});
