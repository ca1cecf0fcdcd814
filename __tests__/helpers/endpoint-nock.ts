/**
 * The nock side of the token-endpoint suites: lifecycle hooks that fail a test leaving a mock unconsumed, and a way
 * to see exactly what was sent. Importing this module loads nock, which patches `http` for the whole Jest worker:
 * call {@link useNock} in every file that imports it, so `nock.restore()` runs before the next file.
 */
import nock from 'nock';

/**
 * Installs the nock lifecycle for a test file: no real network, every mock consumed by the end of each test
 * (the hook fails the test otherwise), and nock's interceptors removed after the file.
 */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    const done = nock.isDone();
    const pending = nock.pendingMocks();
    // Clean up before asserting, so one failing test does not leave mocks or delayed replies to the next.
    nock.cleanAll();
    nock.abortPendingRequests();
    expect(pending).toEqual([]);
    expect(done).toBe(true);
  });
  afterAll(() => {
    nock.enableNetConnect();
    nock.restore();
  });
}

/** What the client sent to the endpoint. */
export interface SentRequest {
  readonly body: string;
  readonly headers: Headers;
}

/**
 * Records every request a scope receives, including those answered with `replyWithError` or a delay
 * (nock emits `request` before it plays any reply back).
 */
export function recordRequests(scope: nock.Scope): SentRequest[] {
  const sent: SentRequest[] = [];
  scope.on('request', (request: Request, _interceptor: unknown, body: string) => {
    sent.push({ body, headers: request.headers });
  });
  return sent;
}

/** The single request a scope received; fails the test when there was not exactly one. */
export function onlyRequest(sent: readonly SentRequest[]): SentRequest {
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

