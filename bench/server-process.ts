/**
 * Runs {@link startAuthServer} in a child process, so a benchmark measures the client without the server's work
 * competing for the same event loop. The benchmark's own (it does not ship); run it with tsx, as ./server-child.ts does.
 *
 * Options: JSON in argv[2], else in the AUTH_SERVER_OPTIONS environment variable, else the defaults.
 * Once listening it prints one line of JSON, `{"url":...,"tokenUrl":...,"apiUrl":...}`, to stdout.
 * Forked with an IPC channel, it obeys messages `{ type, id? }` and answers each with `{ type, id, ok, stats? }`:
 * `revokeAll`, `revokeRefreshTokens`, `resetStats`, `getStats`, `setLatency` (`tokenMs`, `apiMs`), `failNext`
 * (`count`, `status`: the next token requests get that status), `advanceClock` (`ms`: this process's clock moves
 * forward, see ./virtual-clock.ts) and `close`.
 * It also closes when its parent disconnects or on SIGTERM/SIGINT.
 * @example
 * const child = fork('bench/server-process.ts', [JSON.stringify({ expiresIn: 5 })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
 * // read the first stdout line for the url, then: child.send({ type: 'getStats', id: 1 })
 */
import { type AuthServer, type AuthServerOptions, startAuthServer } from '../src/testing/server.js';
import { advanceClock } from './virtual-clock.js';

/** A control message from the parent. */
interface ControlMessage {
  readonly type?: unknown;
  readonly id?: unknown;
  readonly tokenMs?: unknown;
  readonly apiMs?: unknown;
  readonly count?: unknown;
  readonly status?: unknown;
  readonly ms?: unknown;
}

function readOptions(): AuthServerOptions {
  const text = process.argv[2] ?? process.env.AUTH_SERVER_OPTIONS ?? '{}';
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TypeError('server options must be a JSON object');
  }
  return parsed;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

async function main(): Promise<void> {
  const server: AuthServer = await startAuthServer(readOptions());
  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close();
    // Without this the IPC channel would keep the process alive.
    if (process.connected) process.disconnect();
  };

  process.on('message', (raw: unknown) => {
    const message = (raw ?? {}) as ControlMessage;
    const reply = (extra: Record<string, unknown> = {}, sent?: () => void): void => {
      process.send?.({ type: message.type, id: message.id, ok: true, ...extra }, undefined, {}, sent);
    };
    switch (message.type) {
      case 'revokeAll':
        server.revokeAll();
        break;
      case 'revokeRefreshTokens':
        server.revokeRefreshTokens();
        break;
      case 'resetStats':
        server.resetStats();
        break;
      case 'getStats':
        reply({ stats: server.stats });
        return;
      case 'setLatency':
        server.setLatency({ tokenMs: optionalNumber(message.tokenMs), apiMs: optionalNumber(message.apiMs) });
        break;
      case 'failNext': {
        const count = optionalNumber(message.count);
        const status = optionalNumber(message.status);
        if (count === undefined || status === undefined) {
          process.send?.({ type: message.type, id: message.id, ok: false, error: 'failNext needs a count and a status' });
          return;
        }
        server.failNext(count, status);
        break;
      }
      case 'advanceClock': {
        const ms = optionalNumber(message.ms);
        if (ms === undefined || !(Number.isFinite(ms) && ms >= 0)) {
          process.send?.({ type: message.type, id: message.id, ok: false, error: 'advanceClock needs ms >= 0' });
          return;
        }
        advanceClock(ms);
        break;
      }
      case 'close':
        // Shut down only once the reply is on its way: disconnecting first could drop it.
        reply({}, () => void shutdown());
        return;
      default:
        process.send?.({ type: message.type, id: message.id, ok: false, error: 'unknown message type' });
        return;
    }
    reply();
  });
  process.on('disconnect', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());

  process.stdout.write(`${JSON.stringify({ url: server.url, tokenUrl: server.tokenUrl, apiUrl: server.apiUrl })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`auth server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
