#!/usr/bin/env node
// @ts-check
/**
 * npm run check:readme [-- --keep]
 *
 * Every ```ts block of README.md, checked against the package as published: `npm pack`, installed from the tarball into
 * a fresh consumer project (a temp directory) beside its peers at this repository's versions (axios, ioredis, nock, and
 * @types/node and @types/jest for the globals the blocks use). Builds first when dist/ is missing or older than src/.
 *
 * 1. Type-check, three ways, with this repository's TypeScript (strict, skipLibCheck):
 *    - `esm`:     module/moduleResolution NodeNext in a `"type": "module"` directory (Node's ESM rules);
 *    - `cjs`:     module/moduleResolution NodeNext in a `"type": "commonjs"` directory (the `require` conditions);
 *    - `bundler`: module ESNext, moduleResolution Bundler.
 *    Each block is its own module file (an `export {}` is appended), so blocks never see each other's names.
 *    Rule for CommonJS: CommonJS has no top-level await, so a block that awaits at its top level is checked there as a
 *    CommonJS user writes it: its statements after the imports wrapped in `void (async () => { ... })();` (on the same
 *    lines, so line numbers still point into the README). Every block is checked in all three modes; none is ESM-only.
 * 2. The prelude: blocks are excerpts and use names the surrounding text defines (`tokenUrl`, `credentials`, `logger`,
 *    ...). PRELUDE below declares each one once (`declare const ...`), for every block and mode; a name a block declares
 *    itself shadows it. A README block that needs a new name must get a line there: no other name is provided.
 * 3. Run: a block is runnable when it type-checks, every prelude name it uses has a runtime value (`run` in PRELUDE)
 *    and it uses no test-runner global (`test`, `expect`, ...). Runnable blocks are transpiled and run as ESM with node, each against a
 *    fresh loopback server (`axios-oauth-bearer/testing/server`, from the tarball too) started with the Quick start's
 *    credentials; the prelude names get that server's values, and the exact string literals in URLS are replaced by its
 *    URLs. A run must exit 0 within RUN_TIMEOUT_MS, on its own (a timer left behind is a failure, as for a user).
 *
 * Errors print as README.md:line:column. Exits 1 when any block fails to type-check or to run. `--keep` keeps the temp
 * directory and prints its path; `--readme FILE` checks another Markdown file (to try the checker on a broken copy).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
/** @type {typeof import('typescript')} */
const ts = require('typescript');

/** The consumer's dependencies besides the tarball, at the versions installed in this repository. */
const PEERS = ['axios', 'ioredis', 'nock', 'proper-lockfile', '@opentelemetry/api', '@types/node', '@types/jest'];

/** Credentials of the loopback server a block runs against: the Quick start's, so its literals work as written. */
const CREDENTIALS = { clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word' };

/**
 * The names README blocks use without defining: their declaration, and the value a run gives them (an expression over
 * `__server`, the loopback AuthServer), or none (a block that uses such a name is type-checked only).
 * @type {readonly { name: string, declare: string, run?: string, typeOnly?: boolean }[]}
 */
const PRELUDE = [
  { name: 'tokenUrl', declare: 'declare const tokenUrl: string;', run: '__server.tokenUrl' },
  { name: 'clientId', declare: 'declare const clientId: string;', run: JSON.stringify(CREDENTIALS.clientId) },
  { name: 'clientSecret', declare: 'declare const clientSecret: string;', run: JSON.stringify(CREDENTIALS.clientSecret) },
  { name: 'username', declare: 'declare const username: string;', run: JSON.stringify(CREDENTIALS.username) },
  { name: 'password', declare: 'declare const password: string;', run: JSON.stringify(CREDENTIALS.password) },
  {
    name: 'credentials',
    declare:
      'declare const credentials: { tokenUrl: string; clientId: string; clientSecret: string; username: string; password: string };',
    run: '{ tokenUrl: __server.tokenUrl, ...' + JSON.stringify(CREDENTIALS) + ' }',
  },
  { name: 'baseURL', declare: 'declare const baseURL: string;', run: '__server.apiUrl' },
  { name: 'revocationUrl', declare: 'declare const revocationUrl: string;', run: '__server.revocationUrl' },
  { name: 'savedRefreshToken', declare: 'declare const savedRefreshToken: string;' },
  { name: 'saveRefreshToken', declare: 'declare function saveRefreshToken(refreshToken: string | undefined): void;' },
  { name: 'askTheUserToSignInAgain', declare: 'declare function askTheUserToSignInAgain(): void;' },
  { name: 'upstream', declare: "declare const upstream: import('axios-oauth-bearer').AuthClient;" },
  { name: 'signAssertion', declare: 'declare function signAssertion(): Promise<string>;' },
  { name: 'ReportList', declare: 'type ReportList = { reports?: unknown[] };', typeOnly: true },
  { name: 'logger', declare: 'declare const logger: { info(message: string): void; warn(message: string): void; error(message: string): void };' },
  { name: 'api', declare: "declare const api: import('axios-oauth-bearer').AuthClient;" },
  { name: 'adminToken', declare: 'declare const adminToken: string;' },
  { name: 'vault', declare: 'declare const vault: { get(name: string): Promise<string> };' },
  {
    name: 'db',
    declare: 'declare const db: { get(key: string): Promise<string | undefined>; set(key: string, text: string): Promise<void>; delete(key: string): Promise<void> };',
  },
  {
    name: 'SomeGeneratedApiClient',
    declare:
      "declare class SomeGeneratedApiClient { constructor(configuration?: unknown, basePath?: string, axios?: import('axios').AxiosInstance); }",
  },
];

/** Test-runner globals (from @types/jest): a block using one is a test, type-checked here and run by a test runner. */
const RUNNER_GLOBALS = new Set(['test', 'it', 'describe', 'expect', 'beforeAll', 'afterAll', 'beforeEach', 'afterEach', 'jest']);

/** Exact string literals that a run replaces with the loopback server's URLs. */
const URLS = {
  'https://oidc-pre.semansys.com/connect/token': '__server.tokenUrl',
  'https://api.semansys.com': '__server.apiUrl',
  'https://api.example.com': '__server.apiUrl',
};

const RUN_TIMEOUT_MS = 15_000;
/** Starts the line a run prints its loopback server's counters on (a block may print lines of its own). */
const STATS_MARK = 'check-readme stats: ';

const readmeFlag = process.argv.indexOf('--readme');
const readmePath = path.resolve(readmeFlag === -1 ? path.join(root, 'README.md') : (process.argv[readmeFlag + 1] ?? ''));
const readmeName = path.relative(process.cwd(), readmePath) || 'README.md';

const MODES = /** @type {const} */ ({
  esm: { type: 'module', module: 'NodeNext', moduleResolution: 'NodeNext' },
  cjs: { type: 'commonjs', module: 'NodeNext', moduleResolution: 'NodeNext' },
  bundler: { type: 'module', module: 'ESNext', moduleResolution: 'Bundler' },
});

/** @param {string} message */
const log = (message) => process.stderr.write(`[check:readme] ${message}\n`);

/**
 * @typedef {{ index: number, line: number, heading: string, code: string }} Block
 * `line` is the README line of the block's first line of code (1-based).
 */

/** @returns {Block[]} */
function readBlocks() {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  /** @type {Block[]} */
  const blocks = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const fence = /^(`{3,})(ts|typescript)\s*$/.exec(line);
    if (fence === null) continue;
    const end = lines.findIndex((candidate, j) => j > i && candidate.startsWith(fence[1] ?? '```'));
    if (end === -1) throw new Error(`${readmeName}:${i + 1}: a \`\`\`ts block is never closed`);
    blocks.push({ index: blocks.length + 1, line: i + 2, heading, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Builds when dist/ is missing or older than any file under src/. */
function ensureBuild() {
  const built = path.join(root, 'dist', 'index.js');
  /** @param {string} dir @returns {number} */
  const newest = (dir) =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(path.join(dir, entry.name)) : statSync(path.join(dir, entry.name)).mtimeMs,
      ),
    );
  if (existsSync(built) && statSync(built).mtimeMs >= newest(path.join(root, 'src'))) return;
  log('dist/ is missing or older than src/: npm run build');
  run('npm', ['run', 'build', '--silent'], root);
}

/**
 * @param {string} command @param {string[]} args @param {string} cwd
 * @returns {string} stdout
 */
function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Packs the package and installs it, with PEERS, into a new consumer project; returns its directory. */
function createConsumer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'check-readme-'));
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop() ?? '';
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-consumer', private: true }, null, 2));
  // Read from node_modules by path: some packages (@opentelemetry/api) do not export their package.json.
  const peers = PEERS.map((name) => `${name}@${JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version}`);
  log(`installing ${tarball} with ${peers.join(' ')}`);
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `./${tarball}`, ...peers], dir);
  return dir;
}

/**
 * The names a block uses as values (not as types, property names or its own declarations), and whether it awaits at
 * its top level.
 * @param {string} code
 */
function analyse(code) {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  /** @type {Set<string>} */
  const declared = new Set();
  /** @type {Set<string>} */
  const used = new Set();
  let topLevelAwait = false;
  /** @param {import('typescript').Node} node @param {boolean} inFunction */
  const visit = (node, inFunction) => {
    if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (!inFunction && (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined))) topLevelAwait = true;
    const { parent } = node;
    if (ts.isIdentifier(node)) {
      const isName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isBindingElement(parent) && parent.propertyName === node) ||
        (ts.isImportSpecifier(parent) && parent.propertyName === node);
      const isDeclaration =
        ((ts.isVariableDeclaration(parent) || ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent) || ts.isBindingElement(parent) || ts.isParameter(parent)) &&
          parent.name === node) ||
        ts.isImportClause(parent) ||
        ts.isImportSpecifier(parent) ||
        ts.isNamespaceImport(parent);
      if (isDeclaration) declared.add(node.text);
      else if (!isName) used.add(node.text);
    }
    ts.forEachChild(node, (child) => visit(child, inFunction || ts.isFunctionLike(node)));
  };
  visit(source, false);
  const external = [...used].filter((name) => !declared.has(name));
  return { source, declared, external, topLevelAwait };
}

/**
 * The block's file for a mode: the block itself, line for line, plus `export {}`; in CommonJS with a top-level await,
 * the statements after its imports are wrapped in an async function on the same lines.
 * @param {Block} block @param {keyof typeof MODES} mode
 */
function moduleText(block, mode) {
  const { source, topLevelAwait } = analyse(block.code);
  if (mode !== 'cjs' || !topLevelAwait) return `${block.code}\nexport {};\n`;
  const body = source.statements.filter((statement) => !ts.isImportDeclaration(statement));
  const first = body[0];
  if (first === undefined) return `${block.code}\nexport {};\n`;
  const start = first.getStart(source);
  return `${block.code.slice(0, start)}void (async () => { ${block.code.slice(start)}\n})();\nexport {};\n`;
}

/**
 * Type-checks every block in every mode; returns the failures, as README positions.
 * @param {Block[]} blocks @param {string} dir
 */
function typeCheck(blocks, dir) {
  /** @type {string[]} */
  const failures = [];
  /** @type {Record<string, boolean[]>} */
  const passed = {};
  for (const [mode, setup] of Object.entries(MODES)) {
    const modeDir = path.join(dir, mode);
    mkdirSync(modeDir);
    writeFileSync(path.join(modeDir, 'package.json'), JSON.stringify({ type: setup.type }));
    writeFileSync(path.join(modeDir, 'prelude.d.ts'), `${PRELUDE.map((entry) => entry.declare).join('\n')}\n`);
    const files = blocks.map((block) => {
      const file = path.join(modeDir, `block-${String(block.index).padStart(2, '0')}.ts`);
      writeFileSync(file, moduleText(block, /** @type {keyof typeof MODES} */ (mode)));
      return file;
    });
    const options = {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind[setup.module],
      moduleResolution: ts.ModuleResolutionKind[setup.moduleResolution],
      types: ['node', 'jest'],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      typeRoots: [path.join(dir, 'node_modules', '@types')],
    };
    const program = ts.createProgram([path.join(modeDir, 'prelude.d.ts'), ...files], options);
    const diagnostics = ts.getPreEmitDiagnostics(program);
    passed[mode] = blocks.map(() => true);
    for (const diagnostic of diagnostics) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n    ');
      const fileName = diagnostic.file?.fileName ?? '';
      const index = files.indexOf(fileName);
      const block = blocks[index];
      if (diagnostic.file === undefined || diagnostic.start === undefined || block === undefined) {
        failures.push(`[${mode}] ${fileName || '(options)'}: TS${diagnostic.code} ${message}`);
        continue;
      }
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      (passed[mode] ?? [])[index] = false;
      failures.push(`${readmeName}:${block.line + line}:${character + 1} [${mode}] (block ${block.index}, ${block.heading}) TS${diagnostic.code} ${message}`);
    }
  }
  return { failures, passed };
}

/**
 * Why a block is not run, or undefined when it is runnable.
 * @param {Block} block
 */
function notRunnable(block) {
  const { external } = analyse(block.code);
  const runner = external.filter((name) => RUNNER_GLOBALS.has(name));
  if (runner.length > 0) return `a test (uses ${runner.join(', ')})`;
  const missing = external.filter((name) => PRELUDE.some((entry) => entry.name === name && entry.run === undefined && entry.typeOnly !== true));
  return missing.length > 0 ? `uses ${missing.join(', ')}` : undefined;
}

/**
 * Runs a block as ESM against a fresh loopback server; returns undefined on success, else why it failed.
 * @param {Block} block @param {string} dir
 */
function runBlock(block, dir) {
  const { declared, external } = analyse(block.code);
  let js = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  for (const [literal, replacement] of Object.entries(URLS)) {
    js = js.replaceAll(`'${literal}'`, replacement).replaceAll(`"${literal}"`, replacement);
  }
  const parsed = ts.createSourceFile('block.mjs', js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const imports = parsed.statements.filter((statement) => ts.isImportDeclaration(statement)).map((statement) => statement.getText(parsed));
  const body = parsed.statements.filter((statement) => !ts.isImportDeclaration(statement)).map((statement) => statement.getFullText(parsed));
  const values = PRELUDE.filter((entry) => entry.run !== undefined && external.includes(entry.name) && !declared.has(entry.name));
  const file = path.join(dir, `run-${String(block.index).padStart(2, '0')}.mjs`);
  writeFileSync(
    file,
    [
      ...imports,
      "import { startAuthServer as __startAuthServer } from 'axios-oauth-bearer/testing/server';",
      `const __server = await __startAuthServer(${JSON.stringify(CREDENTIALS)});`,
      ...values.map((entry) => `const ${entry.name} = ${entry.run};`),
      'try {',
      ...body,
      '} finally {',
      '  await __server.close();',
      '}',
      'const { tokenRequests, apiOk, api401s } = __server.stats;',
      `process.stdout.write(${JSON.stringify(STATS_MARK)} + JSON.stringify({ tokenRequests, apiOk, api401s }) + '\\n');`,
      '',
    ].join('\n'),
  );
  const result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  if (result.error !== undefined) return { error: `did not exit within ${RUN_TIMEOUT_MS} ms (${result.error.message})` };
  if (result.status !== 0) {
    const stderr = result.stderr.trim().split('\n').filter((line) => !/^\s+at /.test(line));
    return { error: `exited ${result.status}:\n    ${stderr.slice(0, 20).join('\n    ')}` };
  }
  const stats = result.stdout.split('\n').find((line) => line.startsWith(STATS_MARK));
  return { stats: stats === undefined ? '' : `loopback server: ${stats.slice(STATS_MARK.length)}` };
}

function main() {
  const keep = process.argv.includes('--keep');
  const started = Date.now();
  const blocks = readBlocks();
  ensureBuild();
  const dir = createConsumer();
  try {
    log(`type-checking ${blocks.length} blocks: ${Object.keys(MODES).join(', ')}`);
    const { failures, passed } = typeCheck(blocks, dir);
    const rows = [];
    for (const block of blocks) {
      const checks = Object.keys(MODES).map((mode) => `${mode} ${passed[mode]?.[block.index - 1] === true ? 'ok' : 'FAIL'}`);
      const typeChecks = Object.keys(MODES).every((mode) => passed[mode]?.[block.index - 1] === true);
      const skip = typeChecks ? notRunnable(block) : 'it does not type-check';
      let ran = `not run: ${skip}`;
      if (skip === undefined) {
        const outcome = runBlock(block, dir);
        if (outcome.error !== undefined) failures.push(`${readmeName}:${block.line} (block ${block.index}, ${block.heading}) run ${outcome.error}`);
        ran = outcome.error === undefined ? `ran ok ${outcome.stats}` : 'run FAILED';
      }
      rows.push(`  block ${String(block.index).padStart(2)}  ${readmeName}:${String(block.line).padEnd(4)} ${checks.join(', ')}; ${ran}  (${block.heading})`);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
    for (const failure of failures) process.stdout.write(`${failure}\n`);
    log(`${failures.length === 0 ? 'all blocks pass' : `${failures.length} failure(s)`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main();
