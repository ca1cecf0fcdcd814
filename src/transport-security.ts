/**
 * Where plain `http:` may carry credentials: only to this machine, where nobody can overhear it, unless the user
 * opted out with `allowInsecureHttp`. Shared by the configured token URL and issuer (options.ts) and the token
 * endpoint that discovery finds (discovery.ts).
 */

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** True when the URL's host is this machine, where plain http cannot be overheard. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK.test(url.hostname);
}
