/**
 * application/x-www-form-urlencoded encoding of a single value, on its own because two modules need it: the token
 * endpoint encodes what it sends with it, and redaction looks for secrets in the same encoding when an endpoint
 * echoes the request back. The two forms of HTTP Basic client credentials live here too, since one of them is
 * this encoding.
 */
import type { BasicCredentialForm } from './errors.js';

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 section 2.3.1 asks for Basic credentials. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The base64 of `id:secret` for an HTTP Basic header, in one of its two forms: each part form-encoded first
 * (RFC 6749 section 2.3.1), or as given (RFC 7617, which is what most servers decode).
 * @example
 * basicCredentials('a b', 's+t', 'form-encoded'); // base64 of 'a+b:s%2Bt'
 * basicCredentials('a b', 's+t', 'raw');          // base64 of 'a b:s+t'
 */
export function basicCredentials(clientId: string, clientSecret: string, form: BasicCredentialForm): string {
  const [id, secret] = form === 'raw' ? [clientId, clientSecret] : [formEncode(clientId), formEncode(clientSecret)];
  return Buffer.from(`${id}:${secret}`, 'utf8').toString('base64');
}
