/**
 * The fault-injection proxy (bench/delay-proxy.ts) against a real echo server on loopback: measured delays, held
 * traffic, order, half-close, and teardown. Time bounds are honest: lower bounds a few ms under the delay (timers fire
 * late, never early), upper bounds about 5x the expectation, for a loaded 2-core machine.
 */
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

import { type DelayProxy, startDelayProxy } from '../bench/delay-proxy.js';

interface Echo {
  readonly server: Server;
  readonly port: number;
  /** Bytes the echo server received, over all connections. */
  received(): number;
  close(): Promise<void>;
}

/** Echoes every byte back, and ends its side when the client ends its own. */
async function startEcho(): Promise<Echo> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A connected client with everything it has received so far. */
interface Client {
  readonly socket: Socket;
  /** Resolves when the socket has closed, for whatever reason (a reset included). */
  readonly closed: Promise<void>;
  text(): string;
  /** Resolves once `bytes` bytes in total have arrived. */
  waitFor(bytes: number): Promise<void>;
}

/** `halfOpen`: the client's side stays writable after the peer's FIN (else it closes at once, the default). */
async function client(port: number, halfOpen = false): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: halfOpen });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const chunks: Buffer[] = [];
  let waiters: { bytes: number; resolve: () => void }[] = [];
  const size = (): number => chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    const have = size();
    waiters = waiters.filter((waiter) => (waiter.bytes <= have ? (waiter.resolve(), false) : true));
  });
  await once(socket, 'connect');
  return {
    socket,
    closed,
    text: () => Buffer.concat(chunks).toString('utf8'),
    waitFor: (bytes) =>
      size() >= bytes ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ bytes, resolve })),
  };
}

/** Milliseconds from writing `message` until its whole echo has arrived. */
async function roundTrip(through: Client, message: string): Promise<number> {
  const before = Buffer.byteLength(through.text());
  const started = performance.now();
  through.socket.write(message);
  await through.waitFor(before + Buffer.byteLength(message));
  return performance.now() - started;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let echo: Echo;
let proxy: DelayProxy | undefined;
const clients: Socket[] = [];

async function open(port: number, halfOpen = false): Promise<Client> {
  const opened = await client(port, halfOpen);
  clients.push(opened.socket);
  return opened;
}

beforeEach(async () => {
  echo = await startEcho();
});

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  await proxy?.close();
  proxy = undefined;
  await echo.close();
});

describe('the delay proxy', () => {
  test('forwards bytes unchanged and in order in both directions, a megabyte included', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port });
    const through = await open(proxy.port);
    const payload = Array.from({ length: 20_000 }, (_, n) => `${n},`).join('').padEnd(1 << 20, 'x');
    through.socket.write(payload);
    await through.waitFor(payload.length);
    expect(through.text()).toBe(payload);
    expect(echo.received()).toBe(payload.length);
  });

  test('a delay in both directions costs a round trip twice the delay', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port, delayMs: 200 });
    const through = await open(proxy.port);
    const elapsed = await roundTrip(through, 'ping');
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(2_000);
    expect(through.text()).toBe('ping');
  });

  test('a delay on the replies alone makes each reply that much later, and the request arrives at once', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port, delayMs: 200, direction: 'replies' });
    expect(proxy.delays).toEqual({ requests: 0, replies: 200 });
    const through = await open(proxy.port);
    const started = performance.now();
    const trip = roundTrip(through, 'ping');
    await waitUntil(() => echo.received() === 4);
    // The request went through undelayed: the echo server had it long before the reply came back.
    expect(performance.now() - started).toBeLessThan(150);
    const elapsed = await trip;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_000);
  });

  test('setDelay applies at runtime, and a chunk sent after a lowered delay still arrives after the one before it', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port, direction: 'replies' });
    const through = await open(proxy.port);
    const fast = await roundTrip(through, 'a');
    proxy.setDelay(300, 'replies');
    expect(await roundTrip(through, 'b')).toBeGreaterThanOrEqual(290);
    expect(fast).toBeLessThan(290);

    // 'c' is held for 300 ms; 'd', sent once the delay is 0, must still wait behind it.
    through.socket.write('c');
    await waitUntil(() => echo.received() === 3);
    proxy.setDelay(0);
    through.socket.write('d');
    await sleep(100);
    expect(through.text()).toBe('ab');
    await through.waitFor(4);
    expect(through.text()).toBe('abcd');
  });

  test('pause holds all traffic (new connections too) without dropping any, and resume forwards it', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port });
    const first = await open(proxy.port);
    expect(await roundTrip(first, 'warm')).toBeLessThan(1_000);
    proxy.pause();
    expect(proxy.paused).toBe(true);
    first.socket.write('held');
    const second = await open(proxy.port); // accepted while paused, as a stopped process's kernel would
    second.socket.write('also held');
    await sleep(300);
    expect(echo.received()).toBe(4); // 'warm' only: requests are held too, not just replies
    expect(first.text()).toBe('warm');
    expect(second.text()).toBe('');

    proxy.resume();
    await Promise.all([first.waitFor(8), second.waitFor(9)]);
    expect(first.text()).toBe('warmheld');
    expect(second.text()).toBe('also held');
  });

  test('pause also holds replies already on their way back', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port, delayMs: 200, direction: 'replies' });
    const through = await open(proxy.port);
    through.socket.write('late');
    await waitUntil(() => echo.received() === 4); // the reply is now queued in the proxy
    proxy.pause();
    await sleep(400); // well past its due time
    expect(through.text()).toBe('');
    proxy.resume();
    await through.waitFor(4);
    expect(through.text()).toBe('late');
  });

  test('a half-close is forwarded behind the delayed data, and the connection then goes away', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port, delayMs: 100 });
    const through = await open(proxy.port, true);
    const ended = once(through.socket, 'end');
    through.socket.end('bye');
    await ended;
    expect(through.text()).toBe('bye');
    await waitUntil(() => proxy?.connections === 0);
  });

  test('a target that refuses closes the client side, and the proxy carries on', async () => {
    const closed = await startEcho();
    const { port } = closed;
    await closed.close();
    proxy = await startDelayProxy({ targetPort: port });
    const through = await open(proxy.port);
    await through.closed;
    expect(proxy.connections).toBe(0);
    // Still listening: the next connection is accepted (and closed the same way).
    await (await open(proxy.port)).closed;
  });

  test('close destroys every connection, held ones included, and stops listening', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port });
    const [a, b] = [await open(proxy.port), await open(proxy.port)];
    await roundTrip(a, 'x');
    await waitUntil(() => proxy?.connections === 2);
    proxy.pause();
    b.socket.write('never');
    const { port } = proxy;
    await proxy.close();
    proxy = undefined;
    await Promise.all([a.closed, b.closed]);
    expect(b.text()).toBe('');
    const refused = connect({ host: '127.0.0.1', port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  test('rejects a negative or non-finite delay', async () => {
    proxy = await startDelayProxy({ targetPort: echo.port });
    expect(() => proxy?.setDelay(-1)).toThrow(RangeError);
    expect(() => proxy?.setDelay(Number.NaN)).toThrow(RangeError);
    expect(proxy.delays).toEqual({ requests: 0, replies: 0 });
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('gave up waiting');
    await sleep(5);
  }
}
