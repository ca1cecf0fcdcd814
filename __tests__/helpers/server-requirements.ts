/**
 * Which test files need a real server program that `npm ci` cannot install (today: Redis), and whether this machine
 * has it. Read by jest.config.ts before any test runs: on a machine without redis-server the suites that need it are
 * left out (testPathIgnorePatterns) and one line says so at the end of the run (skip-notice.ts); with `CI` set they
 * are never left out, so a CI machine without it fails. The test files themselves carry no skip logic.
 *
 * A file needs Redis when its name starts with `redis-`, or when it imports, directly or through other files under
 * `__tests__/`, one of the modules that start a redis-server (src/testing/redis-process.ts). Imports out of
 * `__tests__/` (into `src/` or `bench/`) are not followed further: the benchmark's quick mode, say, reports its Redis
 * scenario as skipped by itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ServerRequirement {
  /** What the skip line calls it. */
  readonly name: string;
  /** Programs that must be on PATH (each is run once with `--version`). */
  readonly binaries: readonly string[];
  /** How to get them, for the skip line. */
  readonly install: string;
  /** Test files named like this need it (matched against the file's base name). */
  readonly fileName: RegExp;
  /** Modules (paths relative to the repository root) whose importers need it. */
  readonly modules: readonly string[];
}

export const REQUIREMENTS: readonly ServerRequirement[] = [
  {
    name: 'redis-server',
    // redis-cli builds the Cluster in helpers/redis-topologies.ts; Debian's redis-server package brings it.
    binaries: ['redis-server', 'redis-cli'],
    install: 'apt-get install redis-server',
    fileName: /^redis-/,
    modules: ['src/testing/redis-process.ts'],
  },
];

/** What jest.config.ts needs from the detection. */
export interface RequirementCheck {
  /** Absolute paths of the test files to leave out of this run. */
  readonly skipped: readonly string[];
  /** The one line for the end of the run (undefined when nothing is missing). */
  readonly notice: string | undefined;
}

/** `CI` as Jest's own `--ci` default reads it: set to anything but `false` or `0`. */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

export function hasBinary(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The `.ts` file a relative specifier means (sources import each other as './x.js'). */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base.replace(/\.(c|m)?js$/, '.$1ts'), base, `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((candidate) => existsSync(candidate) && !candidate.endsWith(path.sep));
}

/** True when `file` imports one of `targets`, following imports through files under `testsDir` only. */
function imports(file: string, targets: ReadonlySet<string>, testsDir: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  for (const match of source.matchAll(IMPORT)) {
    const specifier = match[1];
    if (specifier === undefined) continue;
    const target = resolveImport(file, specifier);
    if (target === undefined) continue;
    if (targets.has(target)) return true;
    if (target.startsWith(testsDir + path.sep) && imports(target, targets, testsDir, seen)) return true;
  }
  return false;
}

/** Every `*.test.ts` under `testsDir`, except `ignoredDirs`. */
export function testFiles(testsDir: string, ignoredDirs: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(testsDir, { withFileTypes: true })) {
    const full = path.join(testsDir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !ignoredDirs.includes(full)) found.push(...testFiles(full, ignoredDirs));
    } else if (entry.name.endsWith('.test.ts')) {
      found.push(full);
    }
  }
  return found.sort();
}

/** The test files that need `requirement`. */
export function filesNeeding(requirement: ServerRequirement, rootDir: string, files: readonly string[]): string[] {
  const testsDir = path.join(rootDir, '__tests__');
  const targets = new Set(requirement.modules.map((module) => path.join(rootDir, module)));
  return files.filter((file) => requirement.fileName.test(path.basename(file)) || imports(file, targets, testsDir));
}

export interface CheckOptions {
  readonly rootDir: string;
  /** Directories under `__tests__` that this configuration never runs anyway. */
  readonly ignoredDirs?: readonly string[];
  readonly ci?: boolean;
  readonly has?: (binary: string) => boolean;
  readonly requirements?: readonly ServerRequirement[];
}

export function checkRequirements(options: CheckOptions): RequirementCheck {
  const { rootDir, ci = isCI(), has = hasBinary, requirements = REQUIREMENTS } = options;
  const files = testFiles(path.join(rootDir, '__tests__'), options.ignoredDirs ?? []);
  const skipped: string[] = [];
  const lines: string[] = [];
  for (const requirement of requirements) {
    const missing = requirement.binaries.filter((binary) => !has(binary));
    if (missing.length === 0) continue;
    const needing = filesNeeding(requirement, rootDir, files);
    if (needing.length === 0) continue;
    const names = needing.map((file) => path.relative(rootDir, file)).join(', ');
    if (ci) {
      lines.push(
        `CI is set and ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not on PATH: the ${needing.length} test files that need ${requirement.name} are not skipped in CI, so they fail: ${names}. Install it: ${requirement.install}`,
      );
    } else {
      skipped.push(...needing);
      lines.push(
        `SKIPPED ${needing.length} test files that need ${requirement.name} (${missing.join(' and ')} not on PATH): ${names}. Install it to run them: ${requirement.install} (with CI=true they never skip).`,
      );
    }
  }
  return { skipped, notice: lines.length === 0 ? undefined : lines.join('\n') };
}

/** A testPathIgnorePatterns entry that matches exactly this file. */
export function exactPathPattern(file: string): string {
  return `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}
