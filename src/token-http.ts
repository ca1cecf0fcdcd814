/**
 * The bare axios instance that token and discovery requests go through, and the translation of what can go wrong on
 * the way (no answer, an answer too large to read) into this library's errors. Shared by token-endpoint.ts and
 * discovery.ts.
 */
import axios, { type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';

import { type GrantKind, InvalidTokenResponseError, TokenNetworkError } from './errors.js';
import { MAX_RESPONSE_BYTES } from './limits.js';
import { redactText } from './redact.js';
import { sanitizeError } from './sanitize-error.js';

/** Creates the plain axios instance token requests go through, with axios's default adapter unless one is given. */
export function createTokenHttpClient(timeout: number, adapter?: AxiosRequestConfig['adapter']): AxiosInstance {
  const http = axios.create({
    ...(adapter === undefined ? {} : { adapter }),
    // axios's `timeout` is an idle timeout once connected: an endpoint that trickles a byte at a time would never
    // trip it. Each request therefore also carries an AbortSignal.timeout(timeout) deadline for the whole exchange.
    timeout,
    maxContentLength: MAX_RESPONSE_BYTES,
    maxRedirects: 0,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true },
    headers: { Accept: 'application/json' },
  });
  // axios.create copies the global axios.defaults: an application-wide bearer token set there must not reach the
  // token endpoint (client authentication is ours to send).
  delete http.defaults.headers.common.Authorization;
  return http;
}

/**
 * The error for a request that produced no usable answer. An answer over {@link MAX_RESPONSE_BYTES} did arrive: the
 * endpoint is not unreachable but broken, so it is an {@link InvalidTokenResponseError} (not retried), not a
 * network error that retries would only repeat. Anything else is a {@link TokenNetworkError} with a sanitized cause
 * (and, for discovery, the printable `location` it named).
 */
export function requestFailure(
  kind: GrantKind,
  error: unknown,
  secrets: readonly (string | undefined)[],
  location?: string,
): TokenNetworkError | InvalidTokenResponseError {
  if (isOversized(error)) {
    // axios abandons the answer without handing it over, so its status and headers are not known: status 0.
    return new InvalidTokenResponseError(kind, 'body', `is larger than ${MAX_RESPONSE_BYTES} bytes, the limit for an answer`, {
      status: 0,
      headers: {},
      body: undefined,
    });
  }
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  // ERR_CANCELED: only our deadline signal cancels a token request.
  const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'ERR_CANCELED';
  return new TokenNetworkError(kind, timedOut, sanitizeError(error, secrets), location);
}

/**
 * axios's own verdict on `maxContentLength`. It has no code of its own (ERR_BAD_RESPONSE also means a connection cut
 * mid-answer, which is a network failure), so its message, unchanged since axios 0.x, tells the two apart; the test
 * suite pins it ("an answer over the size limit ...").
 */
function isOversized(error: unknown): boolean {
  return (
    // isAxiosError rather than instanceof: it holds across the ESM and CommonJS copies of axios.
    axios.isAxiosError(error) &&
    error.code === 'ERR_BAD_RESPONSE' &&
    error.message.startsWith('maxContentLength size of')
  );
}

/** Response headers as plain strings, without cookies (a session cookie is a credential too) and without any known
 * secret (a redirect's `Location` may echo the form). */
export function plainHeaders(
  headers: AxiosResponse['headers'],
  secrets: readonly (string | undefined)[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (name.toLowerCase() === 'set-cookie') continue;
    if (typeof value === 'string') out[name] = redactText(value, secrets);
    else if (typeof value === 'number') out[name] = String(value);
  }
  return out;
}
