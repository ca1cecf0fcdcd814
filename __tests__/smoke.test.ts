import nock from 'nock';
import { createTokenEndpoint, resolveAuthOptions } from '../src/index.js';

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.restore());

test('password grant returns a token set', async () => {
  const scope = nock('https://idp.test').post('/token').reply(200, { access_token: 'abc', token_type: 'Bearer', expires_in: 60 });
  const endpoint = createTokenEndpoint(
    resolveAuthOptions({ tokenUrl: 'https://idp.test/token', clientId: 'c', clientSecret: 's3cret', username: 'u', password: 'p4ssword' }),
  );
  const tokens = await endpoint.passwordGrant();
  expect(tokens.accessToken).toBe('abc');
  scope.done();
});
