/**
 * A loopback HTTP proxy in front of an interop server that counts and records what reaches it, so tests count token
 * endpoint calls exactly whatever server is behind it (no server of the suite has a call counter of its own).
 *
 * Bodies are buffered whole (they are small) and forwarded unchanged, Host header included, so a server that builds
 * absolute URLs from the request (a discovery document) names the proxy's address, and a redirect's Location too.
 * Each forwarded request gets a fresh upstream connection: no stale keep-alive socket can turn into a 502.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call to the token endpoint, as the server received and answered it. */
export interface TokenCall {
  /** The form's grant_type, e.g. `password` or `refresh_token`. */
  readonly grantType: string | undefined;
  /** The whole form as sent (secrets included: it stays in the test process). */
  readonly form: Readonly<Record<string, string>>;
  /** How the client authenticated: an HTTP Basic header, form fields, or neither. */
  readonly clientAuth: 'basic' | 'post' | 'none';
  /** With Basic: the id and secret exactly as sent in the header (base64-decoded, not form-decoded). */
  readonly basic: { readonly id: string; readonly secret: string } | undefined;
  readonly status: number;
  /** The RFC 6749 `error` code of the answer, when its body is JSON with one. */
  readonly error: string | undefined;
  /** The answer's body as text. */
  readonly body: string;
}

/** One call to the revocation endpoint (RFC 7009), as the server received and answered it. */
export interface RevocationCall {
  /** The form's `token`. */
  readonly token: string | undefined;
  /** The form's `token_type_hint`, e.g. `refresh_token`. */
  readonly tokenTypeHint: string | undefined;
  readonly clientAuth: 'basic' | 'post' | 'none';
  readonly status: number;
  /** The RFC 6749 `error` code of the answer, when its body is JSON with one. */
  readonly error: string | undefined;
  /** The answer's Content-Type header, when it has one. */
  readonly contentType: string | undefined;
  /** The answer's body as text. */
  readonly body: string;
}

/** One call to the protected API. */
export interface ApiCall {
  readonly path: string;
  readonly status: number;
}

/** Token endpoint calls by grant type. */
export interface GrantCounts {
  readonly password: number;
  readonly refresh_token: number;
  readonly total: number;
}

export interface CountingProxyOptions {
  /** The upstream server's port on 127.0.0.1. */
  readonly upstreamPort: number;
  /** The token endpoint's path, e.g. `/o/token/`. */
  readonly tokenPath: string;
  /** The protected API's path prefix, e.g. `/api/`. */
  readonly apiPrefix: string;
  /** The revocation endpoint's path, e.g. `/o/revoke_token/`, when the server has one. */
  readonly revocationPath?: string;
}

/** Hop-by-hop headers are not forwarded; the body is re-sent whole with its own Content-Length. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade']);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function errorCode(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: no code
  }
  return undefined;
}

function basicCredentials(header: string | undefined): TokenCall['basic'] {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? { id: decoded, secret: '' } : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export class CountingProxy {
  readonly #server: http.Server;
  readonly #options: CountingProxyOptions;
  #tokenCalls: TokenCall[] = [];
  #apiCalls: ApiCall[] = [];
  #revocationCalls: RevocationCall[] = [];

  private constructor(options: CountingProxyOptions) {
    this.#options = options;
    this.#server = http.createServer((req, res) => {
      this.#forward(req, res).catch((error: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`interop proxy: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  }

  /** Starts a proxy on 127.0.0.1 and a free port. */
  static async start(options: CountingProxyOptions): Promise<CountingProxy> {
    const proxy = new CountingProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The proxy's origin, e.g. `http://127.0.0.1:41234`. */
  get origin(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Every token endpoint call since the last {@link reset}, in the order they were answered. */
  get tokenCalls(): readonly TokenCall[] {
    return this.#tokenCalls;
  }

  /** Every API call since the last {@link reset}, in the order they were answered. */
  get apiCalls(): readonly ApiCall[] {
    return this.#apiCalls;
  }

  /** Every revocation endpoint call since the last {@link reset}, in the order they were answered. */
  get revocationCalls(): readonly RevocationCall[] {
    return this.#revocationCalls;
  }

  /** The token endpoint calls since the last {@link reset}, by grant type. */
  grants(): GrantCounts {
    const count = (grant: string): number => this.#tokenCalls.filter((call) => call.grantType === grant).length;
    return { password: count('password'), refresh_token: count('refresh_token'), total: this.#tokenCalls.length };
  }

  /** How many API calls got each status since the last {@link reset}, e.g. `{ 200: 50, 401: 50 }`. */
  apiStatuses(): Record<number, number> {
    const counts: Record<number, number> = {};
    for (const call of this.#apiCalls) counts[call.status] = (counts[call.status] ?? 0) + 1;
    return counts;
  }

  /** Forgets what was counted. */
  reset(): void {
    this.#tokenCalls = [];
    this.#apiCalls = [];
    this.#revocationCalls = [];
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestBody = await readBody(req);
    const upstream = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const out = http.request(
        {
          host: '127.0.0.1',
          port: this.#options.upstreamPort,
          method: req.method,
          path: req.url,
          headers: { ...forwardable(req.headers), 'content-length': String(requestBody.length) },
          agent: false,
        },
        resolve,
      );
      out.on('error', reject);
      out.end(requestBody);
    });
    const responseBody = await readBody(upstream);
    const status = upstream.statusCode ?? 502;
    const path = new URL(req.url ?? '/', 'http://proxy.invalid').pathname;
    if (path === this.#options.tokenPath && req.method === 'POST') {
      const form = new URLSearchParams(requestBody.toString('utf8'));
      const basic = basicCredentials(req.headers.authorization);
      const text = responseBody.toString('utf8');
      this.#tokenCalls.push({
        grantType: form.get('grant_type') ?? undefined,
        form: Object.fromEntries(form),
        clientAuth: basic !== undefined ? 'basic' : form.has('client_secret') ? 'post' : 'none',
        basic,
        status,
        error: errorCode(text),
        body: text,
      });
    } else if (path === this.#options.revocationPath && req.method === 'POST') {
      const form = new URLSearchParams(requestBody.toString('utf8'));
      const contentType = upstream.headers['content-type'];
      const text = responseBody.toString('utf8');
      this.#revocationCalls.push({
        token: form.get('token') ?? undefined,
        tokenTypeHint: form.get('token_type_hint') ?? undefined,
        clientAuth: req.headers.authorization !== undefined ? 'basic' : form.has('client_secret') ? 'post' : 'none',
        status,
        error: errorCode(text),
        contentType,
        body: text,
      });
    } else if (path.startsWith(this.#options.apiPrefix)) {
      this.#apiCalls.push({ path, status });
    }
    res.writeHead(status, { ...forwardable(upstream.headers), 'content-length': String(responseBody.length) });
    res.end(responseBody);
  }
}
