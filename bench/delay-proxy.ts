/**
 * A TCP proxy on 127.0.0.1 in front of another port, for fault injection: it delays every chunk it forwards, and it
 * can hold all traffic (pause) the way a SIGSTOPped server would, but for the clients behind this proxy only. Used by
 * the benchmark's "shared store under faults" scenario and by the tests (a slow Redis, a frozen Redis). node:net only.
 *
 * Semantics, per direction (client to target = "requests", target to client = "replies"):
 * - every chunk is forwarded no earlier than `delay` ms after it arrived here, and chunks keep their order (when the
 *   delay is lowered at runtime, a chunk still waits for the one before it);
 * - with a delay in both directions a request/reply round trip costs twice the delay: set the delay on one direction
 *   only (`setDelay(ms, 'replies')`) for "every reply N ms slower";
 * - while paused nothing is forwarded and nothing is dropped; `resume()` forwards what was held, each chunk once its
 *   own due time has passed. New connections are still accepted while paused (as a stopped process's kernel would).
 *   A held connection's half-close (FIN) is held too, behind its data.
 * - an error or a reset on one side destroys the other side at once (no delay: a reset overtakes queued data, as on
 *   a real network).
 *
 * Not a general-purpose proxy: it buffers held data in memory without backpressure, which is fine for the few
 * kilobytes of Redis commands a test or the benchmark sends.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Which way a delay applies. */
export type DelayDirection = 'both' | 'requests' | 'replies';

/** Options of {@link startDelayProxy}. */
export interface DelayProxyOptions {
  /** The port to forward to, on `targetHost`. */
  readonly targetPort: number;
  /** @default '127.0.0.1' */
  readonly targetHost?: string;
  /**
   * The initial delay, in milliseconds, applied per `direction`.
   * @default 0
   */
  readonly delayMs?: number;
  /** @default 'both' */
  readonly direction?: DelayDirection;
}

/** A running proxy and its controls. */
export interface DelayProxy {
  readonly host: '127.0.0.1';
  /** The port clients connect to. */
  readonly port: number;
  /** The current delays, in milliseconds. */
  readonly delays: { readonly requests: number; readonly replies: number };
  readonly paused: boolean;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Sets the delay of chunks that arrive from now on (chunks already queued keep their due time). */
  setDelay(ms: number, direction?: DelayDirection): void;
  /** Holds all traffic, in both directions, on every connection, until `resume()`. */
  pause(): void;
  /** Forwards what was held (each chunk once due) and lets traffic flow again. */
  resume(): void;
  /** Destroys every connection (held data is dropped) and stops listening. */
  close(): Promise<void>;
}

/** One queued item of a direction: a chunk, or the end of the stream (a half-close). */
interface Item {
  /** On the monotonic clock (performance.now()), so a wall-clock step cannot reorder or stall anything. */
  readonly due: number;
  readonly chunk: Buffer | undefined;
}

/** One direction of one connection: chunks wait here until they are due, then go to `sink`. */
class Lane {
  readonly #sink: Socket;
  readonly #isPaused: () => boolean;
  readonly #queue: Item[] = [];
  #timer: NodeJS.Timeout | undefined;
  #onDrained: (() => void) | undefined;

  constructor(sink: Socket, isPaused: () => boolean) {
    this.#sink = sink;
    this.#isPaused = isPaused;
  }

  /**
   * Queues a chunk (or, with undefined, the end) to be forwarded `delayMs` from now. The queue is first in, first out:
   * an item whose time has come still waits for every item before it, so order survives a lowered delay.
   */
  push(chunk: Buffer | undefined, delayMs: number): void {
    this.#queue.push({ due: performance.now() + delayMs, chunk });
    this.pump();
  }

  /** Forwards every item that is due, unless paused; arms one timer for the next. */
  pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sink.destroyed) {
      // Nobody left to forward to: what was queued is lost, as it would be on the wire.
      this.#queue.length = 0;
      this.#onDrained?.();
      return;
    }
    if (this.#isPaused()) return;
    const now = performance.now();
    let head = this.#queue[0];
    while (head !== undefined && head.due <= now) {
      this.#queue.shift();
      if (head.chunk === undefined) this.#sink.end();
      else this.#sink.write(head.chunk);
      head = this.#queue[0];
    }
    if (head !== undefined) this.#timer = setTimeout(() => this.pump(), head.due - now);
    else this.#onDrained?.();
  }

  /** Runs `then` once everything queued has been forwarded (at once when nothing is). */
  whenDrained(then: () => void): void {
    this.#onDrained = then;
    this.pump();
  }

  /** Drops everything queued and stops the timer. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}

/**
 * Starts the proxy on a free 127.0.0.1 port and resolves once it listens. The target need not be up yet: a
 * connection to a target that refuses is closed on the client's side too.
 * @example
 * const proxy = await startDelayProxy({ targetPort: redis.port, delayMs: 400, direction: 'replies' });
 * const client = new Redis({ port: proxy.port }); // every reply 400 ms late
 * proxy.pause();  // ... Redis seems frozen to this client only
 * proxy.resume();
 * await proxy.close();
 */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const delays = { requests: 0, replies: 0 };
  let paused = false;
  const lanes = new Set<Lane>();
  /** The teardown of every open connection. */
  const open = new Set<() => void>();

  const setDelay = (ms: number, direction: DelayDirection = 'both'): void => {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError('delay must be a non-negative number of milliseconds');
    if (direction !== 'replies') delays.requests = ms;
    if (direction !== 'requests') delays.replies = ms;
  };
  setDelay(options.delayMs ?? 0, options.direction);

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const target = createConnection({ host: targetHost, port: options.targetPort, allowHalfOpen: true });
    const isPaused = (): boolean => paused;
    const toTarget = new Lane(target, isPaused);
    const toClient = new Lane(client, isPaused);
    lanes.add(toTarget);
    lanes.add(toClient);
    // Writes to a target still connecting are buffered by node:net; nothing else waits for 'connect'.
    client.on('data', (chunk: Buffer) => toTarget.push(chunk, delays.requests));
    target.on('data', (chunk: Buffer) => toClient.push(chunk, delays.replies));
    client.on('end', () => toTarget.push(undefined, delays.requests));
    target.on('end', () => toClient.push(undefined, delays.replies));
    const teardown = (): void => {
      toTarget.clear();
      toClient.clear();
      lanes.delete(toTarget);
      lanes.delete(toClient);
      open.delete(teardown);
      client.destroy();
      target.destroy();
    };
    open.add(teardown);
    // Errors (ECONNREFUSED, ECONNRESET) are part of what a proxy passes on; they must not crash its process.
    client.on('error', teardown);
    target.on('error', teardown);
    // One side closed for good: the other still gets what is queued for it (its FIN included), then goes too.
    client.once('close', () => toTarget.whenDrained(teardown));
    target.once('close', () => toClient.whenDrained(teardown));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the delay proxy has no TCP address');

  return {
    host: '127.0.0.1',
    port: address.port,
    get delays() {
      return { ...delays };
    },
    get paused() {
      return paused;
    },
    get connections() {
      return open.size;
    },
    setDelay,
    pause() {
      paused = true;
      for (const lane of lanes) lane.pump(); // stops each lane's timer
    },
    resume() {
      paused = false;
      for (const lane of lanes) lane.pump();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const teardown of [...open]) teardown();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
      }),
  };
}
