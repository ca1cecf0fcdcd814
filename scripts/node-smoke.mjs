#!/usr/bin/env node
// @ts-check
/**
 * node scripts/node-smoke.mjs esm|cjs
 *
 * The built package (dist/, reached by its own name through package.json `exports`) on whatever Node runs this: every
 * entry point loads (import or require), then the library's main job against the embedded loopback server: a first
 * password grant, and after a revocation 20 concurrent requests that cost one refresh grant. Run by
 * scripts/test-node.mjs on each Node of the matrix; exits non-zero with the reason on failure.
 */
import { createRequire } from 'node:module';

const mode = process.argv[2];
if (mode !== 'esm' && mode !== 'cjs') throw new Error('usage: node scripts/node-smoke.mjs esm|cjs');
const require = createRequire(import.meta.url);
const ENTRIES = ['axios-oauth-bearer', 'axios-oauth-bearer/redis', 'axios-oauth-bearer/opentelemetry', 'axios-oauth-bearer/testing', 'axios-oauth-bearer/testing/server'];

/** @param {string} id @returns {Promise<Record<string, unknown>>} */
const load = async (id) => (mode === 'esm' ? await import(id) : require(id));

/** @param {boolean} ok @param {string} what */
function check(ok, what) {
  if (!ok) throw new Error(`${mode}: ${what}`);
}

for (const entry of ENTRIES) {
  const loaded = await load(entry);
  check(Object.keys(loaded).length > 0, `${entry} exports nothing`);
}
const { createAuthClient } = /** @type {typeof import('../src/index.js')} */ (await load('axios-oauth-bearer'));
const { startAuthServer } = /** @type {typeof import('../src/testing/server.js')} */ (await load('axios-oauth-bearer/testing/server'));

const server = await startAuthServer();
try {
  const api = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials } });
  check((await api.get('/orders')).status === 200, 'the first request did not get a 200');
  server.revokeAll();
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => api.get(`/orders/${i}`)));
  check(replies.every((reply) => reply.status === 200), 'a request after the revocation failed');
  const { grants } = server.stats;
  check(grants.password === 1 && grants.refresh_token === 1, `expected 1 password and 1 refresh grant, got ${JSON.stringify(grants)}`);
} finally {
  await server.close();
}
process.stdout.write(`node ${process.version} ${mode}: ${ENTRIES.length} entries load; 1 grant, then 20 × 401 → 1 refresh → 20 × 200\n`);
