/**
 * No test file can break another: the repository's test environment (helpers/isolated-environment.ts) fails a file
 * that leaves nock's patches on http/https/fetch behind, and restores them for the next file in the same worker.
 * Proven on the fixtures in fixtures/isolation/ (never part of the normal run), run by a child Jest in one process, in
 * name order: a file whose afterAll throws before nock.restore(), one that never calls it, then an ordinary nock user.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

interface FileResult {
  readonly name: string;
  readonly status: 'passed' | 'failed';
  readonly message: string;
  readonly tests: readonly string[];
}

/** Runs the fixtures under `environment` and returns each file's result (fixtures/isolation/reporter.cjs), by name. */
function runFixtures(environment: 'isolated' | 'node'): Map<string, FileResult> {
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const config = path.join(root, '__tests__', 'fixtures', 'isolation', 'jest.config.cjs');
  const dir = mkdtempSync(path.join(tmpdir(), 'isolation-'));
  const report = path.join(dir, 'report.json');
  try {
    const result = spawnSync(process.execPath, [jest, '-c', config, '--runInBand', '--ci'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ISOLATION_ENVIRONMENT: environment, ISOLATION_REPORT: report },
      timeout: 60_000,
    });
    if (!existsSync(report)) throw new Error(`the child Jest wrote no report (status ${String(result.status)}):\n${result.stderr}`);
    const files = JSON.parse(readFileSync(report, 'utf8')) as FileResult[];
    return new Map(files.map((file) => [file.name, file]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LEAK = /This test file left http\.\{request,get,ClientRequest\}, https\.\{request,get\}.* patched after its last afterAll/;

describe('the isolated test environment', () => {
  let files: Map<string, FileResult>;
  beforeAll(() => {
    files = runFixtures('isolated');
  });

  test('fails a file whose afterAll throws before nock.restore(), naming what it left patched', () => {
    const file = files.get('1-throws-before-restore.fixture.ts');
    expect(file?.status).toBe('failed');
    expect(file?.message).toContain('cleanup failed before nock.restore()');
    expect(file?.message).toMatch(LEAK);
  });

  test('fails a file that never restores nock, though each of its tests passed', () => {
    const file = files.get('2-never-restores.fixture.ts');
    expect(file?.status).toBe('failed');
    expect(file?.tests).toEqual(['passed']);
    expect(file?.message).toMatch(LEAK);
    expect(file?.message).toContain('globalThis.{fetch,Headers,Request,Response}');
  });

  test('the next file in the same worker gets http, https and fetch back, and passes', () => {
    const file = files.get('3-after-leaks.fixture.ts');
    expect(file?.message).toBe('');
    expect(file?.status).toBe('passed');
    expect(file?.tests).toEqual(['passed', 'passed', 'passed']);
  });
});

// The control: the same fixtures under Jest's plain node environment show the breakage this environment prevents
// (should a nock release stop leaking this way, this is the test to revisit, not the environment).
test("under Jest's plain environment the leak goes unnoticed and breaks the next file", () => {
  const files = runFixtures('node');
  expect(files.get('2-never-restores.fixture.ts')?.status).toBe('passed');
  const next = files.get('3-after-leaks.fixture.ts');
  expect(next?.status).toBe('failed');
  expect(next?.message).toContain("Cannot destructure property 'interceptorsFor'");
});
