/**
 * The authorization servers the interop suite runs against. Two, chosen for being real, maintained, installable here
 * in seconds with no configuration beyond a few lines, and speaking different dialects:
 * - django-oauth-toolkit (Debian 12): RFC 6749 answers with 401 for client failures, form-decodes Basic credentials,
 *   publishes OpenID discovery (behind a 301 to the spelling with a slash), and answers 500 to a refresh after a
 *   revocation: it covers the discovery, encoded-Basic and escalation paths. ~17 s to install with apt, ~1.5 s to
 *   start (migrations included).
 * - @node-oauth/oauth2-server (npm): 400 `invalid_client` for client_secret_post, raw Basic credentials, no discovery;
 *   covers the raw-Basic fallback. No install step beyond npm ci; starts in-process in milliseconds.
 * Glewlwyd and LemonLDAP::NG (Debian 12) support the grants too and were not added in this round: Glewlwyd keeps its
 * clients and plugins in a database configured through its admin API, LemonLDAP::NG needs a web server in front of its
 * portal; two solid servers beat four flaky ones. A third one is one more file here with the same ServerDefinition.
 */
import { djangoOauthToolkit } from './django-oauth-toolkit.js';
import { nodeOauth2Server } from './node-oauth2-server.js';
import type { ServerDefinition } from './types.js';

export const servers: readonly ServerDefinition[] = [djangoOauthToolkit, nodeOauth2Server];

/** For describe.each: each server under its name. */
export const serverTable: readonly (readonly [string, ServerDefinition])[] = servers.map((server) => [server.name, server] as const);
