/**
 * `npm run bench` (full) and `npm run bench -- --quick`: runs the scenarios against the loopback server in a child
 * process, shows a live progress line per scenario on stderr, prints a markdown report on stdout, and saves the
 * results as JSON. `npm run bench -- --peers` (with `--quick`: at small sizes) runs the comparison with the libraries
 * people use instead (./peers.ts) the same way: progress on stderr, the table on stdout, the JSON results saved.
 *
 * Where the JSON goes: `os.tmpdir()/axios-oauth-bearer-bench/<mode>-<timestamp>.json` unless `--out <file>` says
 * otherwise, and the path is printed. Not inside the repository: results are machine-specific artefacts, and a file
 * in the working tree would invite an accidental commit of numbers from someone's laptop.
 *
 * Exit code: full mode exits 0 even when a target is missed (the report says MISS; a benchmark is a measurement, not a
 * gate); quick mode exits 1 when an exact count is wrong, so it can gate. Run under `node --expose-gc` (the npm script
 * does) for the heap figures.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { canCollectGarbage, type Progress } from './load.js';
import { PEER_TITLES, PEERS_FULL, PEERS_QUICK, type PeersResult, runPeers } from './peers.js';
import { FULL, type Reporter, type Results, runScenarios, TITLES } from './plan.js';
import { type Check, runQuick } from './quick.js';
import { evaluateTargets, renderMarkdown, type RunInfo, type Target } from './report.js';
import { renderPeers } from './report-peers.js';
import { launchChildProcess } from './server-child.js';
import { realNow } from './virtual-clock.js';

/** The whole run may not take longer than this; the full run needs about three minutes on 2 shared cores. */
const RUN_TIMEOUT_MS = 10 * 60_000;

interface Saved {
  readonly info: RunInfo;
  readonly results: Results | { readonly peers: PeersResult };
  readonly targets?: readonly Target[];
  readonly checks?: readonly Check[];
}

/** A progress line per scenario: rewritten in place on a terminal, an occasional plain line otherwise (CI logs). */
function progressReporter(titles: readonly string[]): { reporter: Reporter; finish: () => void } {
  const tty = process.stderr.isTTY;
  let open: { label: string; started: number; last: string } | undefined;
  let lastWrite = 0;
  const close = (): void => {
    if (open === undefined) return;
    const seconds = ((realNow() - open.started) / 1000).toFixed(1);
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}${open.label} ${open.last} done in ${seconds} s\n`);
    open = undefined;
  };
  const reporter: Reporter = (index): Progress => {
    close();
    const label = `[${index + 1}/${titles.length}] ${titles[index] ?? ''} …`;
    open = { label, started: realNow(), last: '' };
    process.stderr.write(tty ? label : `${label}\n`);
    lastWrite = realNow();
    return (done, total) => {
      if (open === undefined) return;
      open.last = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
      const now = realNow();
      // Writing on every response would cost the measured process CPU: a few times a second is enough to see it move.
      if (now - lastWrite < (tty ? 150 : 5_000)) return;
      lastWrite = now;
      process.stderr.write(tty ? `\r\x1b[K${open.label} ${open.last}` : `${open.label} ${open.last}\n`);
    };
  };
  return { reporter, finish: close };
}

async function save(path: string, saved: Saved): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(saved, null, 2)}\n`);
}

function defaultOutput(mode: RunInfo['mode'], startedAt: string): string {
  return join(tmpdir(), 'axios-oauth-bearer-bench', `${mode}-${startedAt.replace(/[:.]/g, '-')}.json`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      peers: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      [
        'usage: npm run bench [-- --quick] [-- --peers] [-- --out <file.json>]',
        '  (full)   ten scenarios at the sizes of issues 5, 6, 15 and 18, about 4 minutes; markdown report on stdout',
        '           (scenarios 7 and 8 start their own redis-server; without one installed they are reported as SKIPPED,',
        '           except scenario 7\'s file-store variant, which needs nothing installed and always runs)',
        '  --quick  the same scenarios at small sizes; checks exact counts only; exits 1 on a wrong count',
        '  --peers  this library, axios-auth-refresh, axios-oauth-client and @badgateway/oauth2-client in the same',
        '           scenarios (storm, another origin, secrets in errors, steady state), about 1 minute; a table on',
        '           stdout (with --quick: small sizes, seconds)',
        `  --out    where to write the JSON results (default: ${join(tmpdir(), 'axios-oauth-bearer-bench')}/<mode>-<time>.json)`,
        'progress goes to stderr; run under node --expose-gc (the npm script does) for heap figures',
        '',
      ].join('\n'),
    );
    return 0;
  }
  const mode: RunInfo['mode'] = values.peers ? (values.quick ? 'peers-quick' : 'peers') : values.quick ? 'quick' : 'full';
  const startedAt = new Date().toISOString();
  const started = realNow();
  const output = values.out === undefined ? defaultOutput(mode, startedAt) : resolve(values.out);
  const info = (): RunInfo => ({
    mode,
    startedAt,
    durationMs: realNow() - started,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    gcExposed: canCollectGarbage(),
  });
  if (!canCollectGarbage()) process.stderr.write('note: run under `node --expose-gc` for heap figures (npm run bench does)\n');

  const progress = progressReporter(mode === 'peers' || mode === 'peers-quick' ? PEER_TITLES : TITLES);
  if (mode === 'peers' || mode === 'peers-quick') {
    const peers = await runPeers(launchChildProcess, mode === 'peers' ? PEERS_FULL : PEERS_QUICK, progress.reporter);
    progress.finish();
    const finalInfo = info();
    process.stdout.write(
      `\n### axios-oauth-bearer and its peers (${mode})\n\n${finalInfo.startedAt} · Node ${finalInfo.node} · ${finalInfo.platform} · ` +
        `${finalInfo.cpus} CPUs · ${(finalInfo.durationMs / 1000).toFixed(0)} s · server in a child process\n\n${renderPeers(peers)}\n`,
    );
    await save(output, { info: finalInfo, results: { peers } });
    process.stdout.write(`results: ${output}\n`);
    return 0;
  }
  if (mode === 'quick') {
    const report = await runQuick(launchChildProcess, progress.reporter);
    progress.finish();
    const failed = report.checks.filter((check) => !check.pass);
    process.stdout.write(`quick check: ${report.checks.length - failed.length}/${report.checks.length} exact counts as expected\n`);
    for (const check of failed) process.stdout.write(`  MISS ${check.name}: expected ${check.expected}, got ${check.actual}\n`);
    const multi = report.results.multiProcess;
    if (multi.status === 'skipped') process.stdout.write(`  SKIPPED 7. ${TITLES[6]}, Redis variant (the file-store variant ran): ${multi.reason}\n`);
    const { faults } = report.results;
    if (faults.status === 'skipped') process.stdout.write(`  SKIPPED 8. ${TITLES[7]}: ${faults.reason}\n`);
    await save(output, { info: info(), results: report.results, checks: report.checks });
    process.stdout.write(`results: ${output}\n`);
    return report.passed ? 0 : 1;
  }

  const results = await runScenarios(launchChildProcess, FULL, progress.reporter);
  progress.finish();
  const targets = evaluateTargets(results);
  const finalInfo = info();
  process.stdout.write(`\n${renderMarkdown(results, targets, finalInfo)}\n`);
  await save(output, { info: finalInfo, results, targets });
  process.stdout.write(`results: ${output}\n`);
  return 0;
}

// Every scenario is bounded, but a bug in one must still not leave a run hanging (e.g. in CI): give up loudly.
const watchdog = setTimeout(() => {
  process.stderr.write(`\nbenchmark exceeded ${RUN_TIMEOUT_MS / 60_000} minutes; aborting\n`);
  process.exit(2);
}, RUN_TIMEOUT_MS);
watchdog.unref();

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`\nbenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
