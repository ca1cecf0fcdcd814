/**
 * application/x-www-form-urlencoded encoding of a single value, on its own because two modules need it: the token
 * endpoint encodes what it sends with it, and redaction looks for secrets in the same encoding when an endpoint
 * echoes the request back.
 */

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 section 2.3.1 asks for Basic credentials. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
