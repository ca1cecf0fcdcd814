/**
 * Text written by the authorization server (an `error_description`, an `error` code, a socket error's message), made
 * fit for an error message, a log line or a terminal: known secrets removed, characters that could drive a terminal
 * or forge a line escaped, and the length bounded. Whatever the endpoint sends, the result is one line of at most
 * {@link MAX_ENDPOINT_TEXT_LENGTH} characters plus the cut marker.
 */
import { MAX_ENDPOINT_TEXT_LENGTH } from './limits.js';
import { redactText } from './redact.js';

/**
 * Characters escaped in endpoint text:
 * - C0 controls U+0000–U+001F (newline and carriage return forge lines, ESC starts terminal escape sequences, NUL
 *   truncates C strings), DEL U+007F, and the C1 controls U+0080–U+009F (U+009B is a one-byte CSI on some terminals);
 * - the Unicode line and paragraph separators U+2028–U+2029, which some log viewers break lines on;
 * - the bidirectional controls that reorder what a terminal shows (the "Trojan Source" characters): the marks U+061C,
 *   U+200E, U+200F, the embeddings and overrides U+202A–U+202E and the isolates U+2066–U+2069.
 * Zero-width joiners and spaces are left alone: they hide nothing that could pass for our own text.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point of this pattern
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/**
 * `text` with each unsafe character written as a visible `\uXXXX` escape, so the message still shows that it was
 * there (an ANSI sequence reads as `\u001B[31m`) without acting on it.
 * @example
 * printable('line 1\nline 2'); // 'line 1\\u000Aline 2'
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/**
 * `text` cut to `max` characters, with a marker saying how much was left out. Never splits a surrogate pair.
 * @example
 * cut('a'.repeat(600)); // 500 × 'a', then '… [100 more characters cut]'
 */
export function cut(text: string, max = MAX_ENDPOINT_TEXT_LENGTH): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}… [${text.length - end} more characters cut]`;
}

/**
 * Endpoint text ready for a message: secrets removed, unsafe characters escaped, length bounded, in that order.
 * Redaction comes first, on the text as sent, so that neither escaping nor cutting can hide a secret from it; it runs
 * once more after escaping, because an escape could in theory complete a secret that contains a backslash sequence.
 */
export function endpointText(text: string, secrets: readonly (string | undefined)[]): string {
  return cut(redactText(printable(redactText(text, secrets)), secrets));
}
