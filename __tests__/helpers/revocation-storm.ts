/**
 * The telemetry suites' storm (diagnostics.test.ts, opentelemetry.test.ts): a warm client, the server revoking every
 * token, then `count` requests at once. Checks what must hold whatever is observed (every request succeeds, one token
 * request) and answers how many 401s the server sent, which the suites compare with what they observed.
 */
import type { AuthClient } from '../../src/client.js';
import type { AuthServer } from '../../src/testing/server.js';

export async function revocationStorm(api: AuthClient, server: AuthServer, count = 500): Promise<{ storm401s: number; spent: string }> {
  await api.get('/warm');
  const warm = server.stats;
  const spent = api.tokens.current!.accessToken;
  server.revokeAll();

  const results = await Promise.allSettled(Array.from({ length: count }, (_, index) => api.get(`/item/${index}`)));

  expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
  const storm401s = server.stats.api401s - warm.api401s;
  expect(storm401s).toBeGreaterThan(0);
  expect(server.stats.tokenRequests - warm.tokenRequests).toBe(1);
  return { storm401s, spent };
}
