/**
 * The text of `axios-oauth-bearer --help`, kept apart from the parsing so that changing a sentence never touches
 * the logic. Everything a user needs without the README: flags, environment variables, output, exit codes.
 */
import { MAX_ENDPOINT_TEXT_LENGTH } from '../limits.js';
import { ExitCode } from './exit-codes.js';

/** The one-line synopsis, also printed under usage errors. */
export const SYNOPSIS = 'Usage: axios-oauth-bearer token [options]';

/** The full help. */
export const HELP = `${SYNOPSIS}

Obtains an OAuth 2.0 access token (with the password grant unless --grant names another) and prints it,
for shell use:
  curl -H "Authorization: Bearer $(npx axios-oauth-bearer token)" https://api.example.com/orders

Options (a flag wins over its environment variable; an empty value counts as unset):
  --token-url <url>       the token endpoint                           env OAUTH_TOKEN_URL
  --issuer <url>          an OpenID Connect issuer whose discovery     env OAUTH_ISSUER
                          document names the token endpoint (give this or --token-url)
  --client-id <id>        the client id                                env OAUTH_CLIENT_ID
  --grant <grant>         password (default), client_credentials,      env OAUTH_GRANT
                          refresh_token (the token from OAUTH_REFRESH_TOKEN), or an extension
                          grant's type URI (its parameters from --param, its secret parameters
                          from OAUTH_GRANT_SECRETS)
  --param <name=value>    a parameter of an extension grant that is not secret (repeatable)
  --username <name>       the resource owner's username (password grant) env OAUTH_USERNAME
  --scope <scopes>        space-separated scopes to request (optional) env OAUTH_SCOPE
  --client-auth <method>  post (default): client id and secret as form fields;
                          basic: in an HTTP Basic Authorization header, form-encoded first
                          (RFC 6749), raw if the server refuses that (invalid_client);
                          basic-encoded, basic-raw: Basic in that one form only.
                          With --issuer and no --client-auth: post if the discovery document
                          lists it, else basic if it lists that
  --timeout <ms>          give up on the token endpoint after this many milliseconds (default 10000)
  --password-stdin        read the password from the first line of standard input
  --secret-stdin          read the client secret from the first line of standard input;
                          with both, line 1 is the password and line 2 the client secret
  --json                  print the token response as JSON instead of the bare access token
  --cache                 keep the token in a file between runs: the next run reuses it   env OAUTH_CACHE=1
                          (a loop of 100 calls makes one grant); sealed under OAUTH_CACHE_KEY
                          or a key made of the credentials; needs the package proper-lockfile
  --no-cache              do not, whatever OAUTH_CACHE says
  --cache-dir <dir>       where the cache lives (default: the user's cache directory)     env OAUTH_CACHE_DIR
  --forget                remove this identity's cached token, print nothing, and exit
  -h, --help              print this help
  --version               print the version

Secrets come only from the environment or standard input, never from flags:
  OAUTH_PASSWORD          the resource owner's password (--password-stdin overrides it)
  OAUTH_CLIENT_SECRET     the client secret (--secret-stdin overrides it)
  OAUTH_REFRESH_TOKEN     the refresh token, with --grant refresh_token (--json prints the rotated one)
  OAUTH_GRANT_SECRETS     an extension grant's secret parameters, form-encoded
                          (subject_token=...&actor_token=...)
  There is no --password, --client-secret or --refresh-token flag, on purpose: every user of the machine can read a
  process's command line (ps, /proc/<pid>/cmdline), and shells keep it in their history.
  The token URL must use https, except on loopback (127.0.0.1, localhost).

Output:
  default                 the access token and a newline, on standard output
  --json                  {"access_token", "token_type", "expires_in" (whole seconds left),
                          "refresh_token" and "scope" when the endpoint sent them}
  Errors go to standard error, one message each, and never contain a password, secret or token.
  Text from the endpoint is shown with control characters escaped (ESC as \\u001B) and cut to ${MAX_ENDPOINT_TEXT_LENGTH}
  characters. A token that is not printable ASCII without spaces is refused (exit 7), never printed.

Exit codes:
  ${ExitCode.OK}  a token was printed
  ${ExitCode.UNEXPECTED}  unexpected failure (a bug: please report it)
  ${ExitCode.USAGE}  usage or configuration error: a missing, unknown or invalid flag or variable
  ${ExitCode.INVALID_REQUEST}  invalid request: invalid_request, invalid_scope, unauthorized_client,
     unsupported_grant_type, or HTTP 400 without an error code
  ${ExitCode.INVALID_CLIENT}  invalid client: the client id or client secret was rejected
     (invalid_client, or HTTP 401 without an error code)
  ${ExitCode.USER_AUTHENTICATION}  the grant was refused: the username or password (invalid_grant, or HTTP 403
     without an error code), the refresh token (--grant refresh_token), or an extension grant's
     parameters (invalid_grant)
  ${ExitCode.NETWORK}  network error or timeout: the token endpoint could not be reached
  ${ExitCode.INVALID_RESPONSE}  invalid token response: the endpoint's answer is not a usable token
  ${ExitCode.TOKEN_ENDPOINT}  the token endpoint answered with another error status (e.g. 500)

Examples:
  export OAUTH_TOKEN_URL=https://oidc-pre.semansys.com/connect/token
  export OAUTH_CLIENT_ID=my-client OAUTH_USERNAME=me@example.com
  read -rs OAUTH_PASSWORD && export OAUTH_PASSWORD     # typed without echo, never on a command line
  token=$(npx axios-oauth-bearer token) || exit        # stop here if no token was printed
  curl -H "Authorization: Bearer $token" https://api.example.com/orders

  # The client acting for itself (client credentials), no user:
  OAUTH_CLIENT_SECRET=... npx axios-oauth-bearer token --grant client_credentials --scope read

  # Both secrets from a secret manager, through a pipe:
  printf '%s\\n%s\\n' "$(pass show api/password)" "$(pass show api/client-secret)" \\
    | npx axios-oauth-bearer token --password-stdin --secret-stdin --json
`;
