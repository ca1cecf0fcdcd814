/**
 * The `--peers` table: one row per library, one column per scenario of ./peers.ts, and the setups under it. A pure
 * function of the results, like ./report.ts, so the table printed and the JSON saved cannot disagree.
 */
import { count, table } from './markdown.js';
import type { NotRun } from './peer-clients.js';
import type { Leak, PeerOriginRow, PeerSecretsRow, SecretsVariant } from './peer-exposure.js';
import type { PeersResult, PeerSteadyRow, PeerStormRow, StormVariant } from './peers.js';

function isNotRun(row: object): row is NotRun {
  return 'notRun' in row;
}

/** The row of `peer` in `rows` that `pick` accepts, as a cell; "could not run: …" when the scenario threw for it. */
function cell<T extends { readonly peer: string }>(rows: readonly (T | NotRun)[], peer: string, pick: (row: T) => boolean, render: (row: T) => string): string {
  const found = rows.find((row) => row.peer === peer && (isNotRun(row) || pick(row)));
  if (found === undefined) return '–';
  if (isNotRun(found)) return `could not run: ${found.notRun}`;
  return render(found);
}

function plural(n: number, word: string): string {
  return `${count(n)} ${word}${n === 1 ? '' : 's'}`;
}

function stormCell(row: PeerStormRow): string {
  const ok = `${count(row.ok)}/${count(row.requests)} ok`;
  const failed = row.failures === 0 ? '' : ` (${count(row.failures)} failed)`;
  return `${ok}${failed} · ${plural(row.tokenCalls, 'token call')} · ${plural(row.api401s, '401')} served`;
}

function originCell(row: PeerOriginRow): string {
  return row.tokenSent ? '**token sent**' : 'no token';
}

function leakWords(leak: Leak): string[] {
  return [...(leak.password ? ['password'] : []), ...(leak.clientSecret ? ['client secret'] : [])];
}

function secretsCell(row: PeerSecretsRow): string {
  if (!row.failed) return 'the request did not fail';
  const inspected = leakWords(row.inspect);
  const json = row.json === undefined ? undefined : leakWords(row.json);
  const parts: string[] = [];
  if (inspected.length > 0) parts.push(`inspect: ${inspected.join(' + ')}`);
  if (json !== undefined && json.length > 0) parts.push(`JSON: ${json.join(' + ')}`);
  const jsonNote = row.jsonError === undefined ? '' : ` (JSON.stringify threw: ${row.jsonError})`;
  return `${parts.length === 0 ? 'none' : `**${parts.join(' · ')}**`}${jsonNote}`;
}

function steadyCell(row: PeerSteadyRow): string {
  const perExpiry = row.expiries > 0 ? row.api401s / row.expiries : 0;
  const failed = row.failures === 0 ? '0 failed' : `**${count(row.failures)} failed**`;
  return `${perExpiry.toFixed(perExpiry < 10 && perExpiry % 1 !== 0 ? 1 : 0)} per expiry (${count(row.api401s)} in ${count(row.requests)} requests, ${failed}, ${plural(row.tokenCalls, 'token call')})`;
}

/** The comparison as markdown: the table, then each library's version and setup. */
export function renderPeers(result: PeersResult): string {
  const { storm, steady } = result.params;
  const stormBy = (variant: StormVariant) => (row: PeerStormRow) => row.variant === variant;
  const secretsBy = (variant: SecretsVariant) => (row: PeerSecretsRow) => row.variant === variant;
  const header = [
    'library',
    `(a) ${count(storm.requests)} requests, token expired`,
    `(a) ${count(storm.requests)} requests, token revoked`,
    '(b) absolute URL to another origin',
    '(c) wrong password: secrets in the error',
    '(c) token endpoint 500: secrets in the error',
    `(d) steady state, ${steady.expiresIn} s tokens, ${steady.workers} workers, ${steady.durationMs / 1000} s: 401s`,
  ];
  const rows = result.peers.map(({ name, version }) => [
    `${name} ${version}`,
    cell(result.storm, name, stormBy('expired'), stormCell),
    cell(result.storm, name, stormBy('revoked'), stormCell),
    cell(result.origin, name, () => true, originCell),
    cell(result.secrets, name, secretsBy('wrong password'), secretsCell),
    cell(result.secrets, name, secretsBy('token endpoint 500'), secretsCell),
    cell(result.steady, name, () => true, steadyCell),
  ]);
  const setups = result.peers.map(({ name, version, setup }) => `- ${name} ${version}: ${setup}`);
  return [table(header, rows), '', ...setups, ''].join('\n');
}
