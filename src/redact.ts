/**
 * Redaction: the one place that decides what a secret looks like once it has been removed, and in which spellings
 * it is looked for.
 *
 * Errors, events and logs built by this library pass every free-text string they carry (messages, an
 * endpoint's `error_description`) through {@link redactText} with the secrets known at that moment, so even
 * a provider that echoes a password back cannot make the library print it.
 */
import { formEncode } from './form-encoding.js';

/** What a removed secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Replaces every occurrence of each secret in `text`. Secrets shorter than 4 characters are ignored: they would
 * redact ordinary words, and a 3-character secret is not worth protecting this way. */
export function redactText(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  // Longest first: when one secret contains another, replacing the shorter one first would leave the rest of the
  // longer one in the text.
  const longestFirst = secrets.filter((secret) => secret !== undefined).sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) {
    if (secret.length >= 4) out = out.replaceAll(secret, REDACTED);
  }
  return out;
}

/**
 * Each secret in every spelling an endpoint is likely to echo it in: as sent, form-encoded, percent-encoded
 * (`encodeURIComponent`), each with upper- and lower-case hex digits, HTML-escaped, and JSON-escaped. An endpoint
 * that renders the request into an HTML error page, or JSON-encodes it into a string inside its JSON answer, would
 * otherwise print a password that no raw search finds. Without duplicates.
 * @example
 * withEncodings(['p&ss w"rd']); // ['p&ss w"rd', 'p%26ss+w%22rd', 'p%26ss%20w%22rd', 'p&amp;ss w&quot;rd', 'p&ss w\\"rd', ...]
 */
export function withEncodings(secrets: readonly (string | undefined)[]): string[] {
  const forms = secrets.flatMap((secret) =>
    secret === undefined ? [] : [secret, ...percentEncoded(secret), ...htmlEscaped(secret), ...jsonEscaped(secret)],
  );
  return [...new Set(forms)];
}

function percentEncoded(secret: string): string[] {
  const lowerHex = (text: string): string => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
  const encoded = [formEncode(secret), encodeURIComponent(secret)];
  return [...encoded, ...encoded.map(lowerHex)];
}

/**
 * The escapes of `&`, `<` and `>` are the same everywhere; quotes differ by library: `&quot;` and `&#39;` (escape-html,
 * lodash, Ruby), `&#34;` and `&#39;` (Go, Jinja2), `&#039;` (PHP), `&#x27;` (Python's html.escape, Django), `&apos;`
 * (XML, HTML5), or a single quote left as it is.
 */
const HTML_QUOTES: readonly (readonly [string, string])[] = [
  ['&quot;', '&#39;'],
  ['&#34;', '&#39;'],
  ['&quot;', '&#039;'],
  ['&quot;', '&#x27;'],
  ['&quot;', '&apos;'],
  ['&quot;', "'"],
];

function htmlEscaped(secret: string): string[] {
  const base = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return HTML_QUOTES.map(([double, single]) => base.replace(/"/g, double).replace(/'/g, single));
}

/**
 * JSON string escapes as JavaScript writes them (`\"`, `\\`, control characters), and as Python's `json.dumps` and
 * Jackson write them by default or when asked (every non-ASCII character as `\uXXXX`, in lower or upper case),
 * each also with `/` escaped as `\/`, as PHP's `json_encode` does by default.
 */
function jsonEscaped(secret: string): string[] {
  const plain = JSON.stringify(secret).slice(1, -1);
  const hex = (char: string): string => char.charCodeAt(0).toString(16).padStart(4, '0');
  // JSON.stringify has already escaped the control characters; what is left beyond ASCII is escaped here.
  const asciiLower = plain.replace(/[\u0080-\uffff]/g, (char) => `\\u${hex(char)}`);
  const asciiUpper = plain.replace(/[\u0080-\uffff]/g, (char) => `\\u${hex(char).toUpperCase()}`);
  const forms = [plain, asciiLower, asciiUpper];
  return [...forms, ...forms.map((form) => form.replace(/\//g, '\\/'))];
}

/** Field names whose values are credentials wherever they appear in a token-endpoint body. */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token', 'id_token', 'password', 'client_secret']);

/**
 * A copy of a parsed JSON body with credential fields replaced and the known `secrets` removed from every string, at
 * any depth, keys included (an endpoint may echo the password in `error_description`, the whole request in a nested
 * object, or a parsed form as an object whose key is the form body), so an error can keep the body for debugging.
 * Nesting deeper than a token endpoint ever answers is cut off.
 */
export function redactBody(body: unknown, secrets: readonly (string | undefined)[] = [], depth = 0): unknown {
  if (typeof body === 'string') return redactText(body, secrets);
  if (body === null || typeof body !== 'object') return body;
  if (depth >= 8) return REDACTED;
  if (Array.isArray(body)) return body.map((item: unknown) => redactBody(item, secrets, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    copy[redactText(key, secrets)] = SECRET_FIELDS.has(key) ? REDACTED : redactBody(value, secrets, depth + 1);
  }
  return copy;
}
