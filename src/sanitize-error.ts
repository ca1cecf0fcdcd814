/**
 * Foreign errors (an axios error, a socket error, a Redis client's error) made safe to keep as a `cause`.
 */
import { endpointText } from './endpoint-text.js';

/**
 * A copy of a foreign error (an axios error, a socket error) that keeps only its name, message, `code` and its own
 * sanitized `cause`. The original is dropped on purpose: axios errors hold the request config, secrets included.
 * The message is treated as text from the network (a TLS error quotes the server's certificate, a parser error the
 * server's bytes): secrets removed, control characters escaped, length bounded.
 */
export function sanitizeError(original: unknown, secrets: readonly (string | undefined)[], depth = 0): Error {
  if (!(original instanceof Error)) return new Error(endpointText(String(original), secrets));
  const nested = original.cause !== undefined && depth < 4 ? sanitizeError(original.cause, secrets, depth + 1) : undefined;
  const copy = new Error(endpointText(original.message, secrets), nested ? { cause: nested } : undefined);
  copy.name = original.name;
  if ('code' in original && typeof original.code === 'string') Object.assign(copy, { code: original.code });
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}
