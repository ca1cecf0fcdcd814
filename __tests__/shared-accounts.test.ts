/**
 * Many accounts over a shared store: two clients (two processes, as far as the store can tell) acting for the same
 * 20 accounts make one grant per account between them, through a MemoryTokenStore and through a real redis-server;
 * each account's entry is bound to that account's full credentials, so an account whose vault holds another password
 * neither adopts nor overwrites the entry of the account with the right one, and a wrong password's cooldown is
 * shared per account only.
 */
import { Redis } from 'ioredis';

import {
  type AccountProvider,
  type AccountTokenManagers,
  type AuthClient,
  createAuthClient,
  MemoryTokenStore,
  type TokenStore,
  UserAuthenticationError,
} from '../src/index.js';
import { RedisTokenStore } from '../src/redis.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';

const accountIds = Array.from({ length: 20 }, (_, index) => `customer-${String(index)}`);
const userOf = (account: string): string => `user-of-${account}`;
const passwordOf = (account: string): string => `password-of-${account}`;
const vault: AccountProvider = (account) => ({ username: userOf(account), password: passwordOf(account) });

let server: AuthServer;
let redis: RedisServer;
const connections: Redis[] = [];

beforeAll(async () => {
  [server, redis] = await Promise.all([startAuthServer({ users: Object.fromEntries(accountIds.map((id) => [userOf(id), passwordOf(id)])) }), startRedisServer()]);
});
beforeEach(() => server.resetStats());
afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await Promise.all([server.close(), redis.close()]);
});

function client(store: TokenStore, account: AccountProvider = vault): AuthClient<AccountTokenManagers> {
  const { tokenUrl, clientId, clientSecret } = server.credentials;
  return createAuthClient({ baseURL: server.apiUrl, auth: { tokenUrl, clientId, clientSecret, account, store } });
}

const stores: readonly [string, () => TokenStore][] = [
  ['a MemoryTokenStore', () => new MemoryTokenStore()],
  [
    'a RedisTokenStore on a real redis-server',
    () => {
      const connection = new Redis({ host: redis.host, port: redis.port });
      connections.push(connection);
      return new RedisTokenStore({ client: connection, prefix: `accounts-${String(connections.length)}` });
    },
  ],
];

describe.each(stores)('two clients sharing %s', (_, makeStore) => {
  test('20 accounts x 10 concurrent requests on each client: one grant per account in all, each with its own user', async () => {
    const store = makeStore();
    const [one, two] = [client(store), client(store)];
    const sends = accountIds.flatMap((account) =>
      [one, two].flatMap((api) => Array.from({ length: 10 }, async () => ({ account, username: (await api.get<{ username: string }>('/reports', { account })).data.username }))),
    );
    const results = await Promise.all(sends);
    for (const { account, username } of results) expect(username).toBe(userOf(account));
    expect(server.stats.grants).toEqual({ password: accountIds.length, refresh_token: 0 });

    // One account revoked: one refresh between the two clients, for that account only.
    server.revokeAll(userOf('customer-3'));
    await Promise.all([one, two].flatMap((api) => Array.from({ length: 10 }, () => api.get('/reports', { account: 'customer-3' }))));
    expect(server.stats.grants).toEqual({ password: accountIds.length, refresh_token: 1 });
  });

  test('an entry is bound to the account\'s full credentials, and a cooldown to its account', async () => {
    const store = makeStore();
    const right = client(store);
    // The same account and username, another password: another store entry, and its failure stays its own.
    const stale = client(store, (account) => ({ username: userOf(account), password: account === 'customer-1' ? 'stale' : passwordOf(account) }));
    await right.get('/reports', { account: 'customer-1' });
    await expect(stale.get('/reports', { account: 'customer-1' })).rejects.toThrow(UserAuthenticationError);
    expect(server.stats.grants.password).toBe(1);
    expect(server.stats.failedTokenRequests).toBe(1);
    // The right client keeps its token; the stale one's cooldown does not reach it, nor the stale client's other accounts.
    await right.get('/reports', { account: 'customer-1' });
    await stale.get('/reports', { account: 'customer-2' });
    await right.get('/reports', { account: 'customer-2' });
    expect(server.stats.grants.password).toBe(2);
    expect(server.stats.failedTokenRequests).toBe(1);
    // Inside its cooldown, the stale client fails again without asking the server.
    await expect(stale.get('/reports', { account: 'customer-1' })).rejects.toThrow(UserAuthenticationError);
    expect(server.stats.tokenRequests).toBe(3);
  });
});
