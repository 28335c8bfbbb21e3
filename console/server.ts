/**
 * The reviewers' web console: a LOCAL server (node:http, no framework) that runs with the operator's own AWS
 * credentials through the same Operator code as the CLI. Nothing in it is reachable from elsewhere or usable
 * without the operator:
 * - it binds to 127.0.0.1 only, and rejects requests whose Host is not 127.0.0.1/localhost:<port> (DNS rebinding);
 * - every /api request needs the per-session random token (printed at start, passed in the URL fragment, which
 *   browsers never send to servers or put in Referer), in the `X-Console-Token` header: a custom header, so a
 *   cross-site page cannot send it without a CORS preflight, which this server never grants (CSRF);
 * - actions are POSTs with a JSON body, checked Origin, and a required reason;
 * - decisions go to the review API signed with the operator's credentials (the API records the signed caller); no
 *   task token ever reaches this process or the browser;
 * - strict CSP (no inline script), no-store, frame-ancestors 'none'.
 */
import { randomBytes, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { Operator } from '../ops/operator';
import { OperatorError } from '../lambdas/escalate/store';
import { decideCluster, listClusterCases, showCluster } from '../ops/cluster-operator';
import { isValidAccountId } from '../src/shared/account-id';
import { BadRequest, RawResponse, RouteContext, routeGet, routePost } from './routes';

export interface ConsoleOptions {
  operator: Operator;
  /** @default 0 (a free port) */
  port?: number;
  /** Session token. @default 32 random bytes, hex */
  token?: string;
  /** Log lines (never contains tokens). @default none */
  log?: (line: string) => void;
}

export interface RunningConsole {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** The URL with the session token in the fragment: what the operator opens. */
  loginUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const STATIC_DIR = path.join(__dirname, 'static');
const STATIC: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/ops.js': 'ops.js', '/style.css': 'style.css' };
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ID = /^[A-Za-z0-9._:@-]{1,128}$/;

function checkToken(req: http.IncomingMessage, tokenBuf: Buffer): void {
  const got = Buffer.from(String(req.headers['x-console-token'] ?? ''));
  if (got.length !== tokenBuf.length || !timingSafeEqual(got, tokenBuf)) throw new HttpError(401, 'missing or wrong console session token');
}

/** DNS rebinding: only our own host names. */
function checkHost(req: http.IncomingMessage, port: number): void {
  const host = String(req.headers.host ?? '');
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) throw new HttpError(421, `unexpected host ${JSON.stringify(host)}`);
}

/** CSRF: actions come from our own origin, as JSON. */
function checkOrigin(req: http.IncomingMessage, port: number): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`)
    throw new HttpError(403, `cross-origin request refused (${origin})`);
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'actions must be application/json');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new HttpError(400, `body must be a json object: ${(err as Error).message}`);
  }
}

function reasonOf(body: Record<string, unknown>): string {
  const r = body.reason;
  if (typeof r !== 'string' || r.trim().length < 3) throw new HttpError(400, 'a reason is required (at least 3 characters)');
  return r.trim();
}

function idOf(v: string, what: 'case' | 'account'): string {
  let d: string;
  try {
    d = decodeURIComponent(v);
  } catch {
    throw new HttpError(400, `${what} is not a valid id: ${JSON.stringify(v)}`);
  }
  // Account ids follow the one account-id rule (src/shared/account-id.ts): whatever ingest accepts can be reinstated here.
  if (!(what === 'account' ? isValidAccountId(d) : ID.test(d))) throw new HttpError(400, `${what} is not a valid id: ${JSON.stringify(d)}`);
  return d;
}

/** The GET endpoints: session, cases, suspended accounts, recent cases, allowlist, clusters, then ./routes.ts. */
async function apiGet(ctx: RouteContext, p: string, url: URL): Promise<unknown> {
  const { op } = ctx;
  let m: RegExpExecArray | null;
  if (p === '/api/session') {
    const [identity, breaker, shadow] = await Promise.all([op.identity(), op.breakerStatus({ withActive: false }), op.shadowStatus()]);
    return { identity, breaker, shadow, local: op.resources.local, region: op.resources.region };
  }
  if ((m = /^\/api\/cases\/([^/]+)$/.exec(p))) return op.show(idOf(m[1], 'case'));
  if (p === '/api/suspended') return op.suspended();
  if (p === '/api/recent') return op.recentCases(50);
  if (p === '/api/allowlist') return op.allowlistList();
  if (p === '/api/clusters') {
    const [open, decided] = await Promise.all([listClusterCases(op, 'open'), listClusterCases(op, 'decided')]);
    return { open, decided: decided.slice(0, 50) };
  }
  if ((m = /^\/api\/clusters\/([^/]+)$/.exec(p))) return showCluster(op, idOf(m[1], 'case'));
  const out = await routeGet(ctx, p, url);
  if (out !== undefined) return out;
  throw new HttpError(404, `no such endpoint ${p}`);
}

/** The actions: ./routes.ts first, then case and cluster decisions and reinstatements (each with a reason). */
async function apiPost(ctx: RouteContext, p: string, req: http.IncomingMessage): Promise<unknown> {
  const { op, log } = ctx;
  const routed = await routePost(ctx, p, req);
  if (routed !== undefined) return routed;
  const body = await readJson(req);
  let m: RegExpExecArray | null;
  if ((m = /^\/api\/cases\/([^/]+)\/(approve|reject|restrict)$/.exec(p))) {
    const caseId = idOf(m[1], 'case');
    // `restrict` is an approval that applies the restrict step (throttled keys, step-up) instead of a suspension.
    const r = await op.decide(caseId, m[2] !== 'reject', reasonOf(body), m[2] === 'restrict' ? { action: 'restrict' } : {});
    log(`${r.reviewer} ${m[2]}d ${caseId}`);
    return r;
  }
  if ((m = /^\/api\/clusters\/([^/]+)\/(approve|reject)$/.exec(p))) {
    const id = idOf(m[1], 'case');
    const exclude = Array.isArray(body.exclude) ? (body.exclude as { accountId: string; reason: string }[]) : [];
    const r = await decideCluster(op, id, { approved: m[2] === 'approve', reason: reasonOf(body), exclude });
    log(`${r.reviewer} ${m[2]}d cluster case ${id}: ${r.decided.length} members, ${r.excluded.length} excluded`);
    return r;
  }
  if ((m = /^\/api\/accounts\/([^/]+)\/reinstate$/.exec(p))) {
    const accountId = idOf(m[1], 'account');
    const r = await op.reinstate(accountId, reasonOf(body));
    log(`reinstated ${accountId}`);
    return r;
  }
  throw new HttpError(404, `no such action ${p}`);
}

interface Session {
  readonly ctx: RouteContext;
  readonly tokenBuf: Buffer;
  /** The listening port (0 until the server listens). */
  port: number;
}

async function api(s: Session, req: http.IncomingMessage, url: URL): Promise<unknown> {
  checkToken(req, s.tokenBuf);
  if (req.method === 'GET') return apiGet(s.ctx, url.pathname, url);
  if (req.method === 'POST') {
    checkOrigin(req, s.port);
    return apiPost(s.ctx, url.pathname, req);
  }
  throw new HttpError(405, `method ${req.method} not allowed`);
}

/** One request: the API (JSON, or a raw download), or one of the static files; errors as JSON with their status. */
async function handle(s: Session, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const send = (status: number, body: string | Buffer, type: string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
    res.end(body);
  };
  try {
    checkHost(req, s.port);
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${s.port}`);
    if (url.pathname.startsWith('/api/')) {
      const out = await api(s, req, url);
      if (out instanceof RawResponse) {
        res.writeHead(200, { ...SECURITY_HEADERS, ...out.headers, 'Content-Type': out.type });
        res.end(out.body);
        return;
      }
      send(
        200,
        JSON.stringify(out, (_k, v) => (v instanceof Set ? [...v] : v)),
        'application/json; charset=utf-8',
      );
      return;
    }
    const file = STATIC[url.pathname];
    if (!file || req.method !== 'GET') throw new HttpError(404, 'not found');
    send(200, fs.readFileSync(path.join(STATIC_DIR, file)), TYPES[path.extname(file)]);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : err instanceof BadRequest ? 400 : err instanceof OperatorError ? 409 : 500;
    const message = err instanceof Error ? err.message : String(err);
    if (status === 500) s.ctx.log(`error: ${message}`);
    send(status, JSON.stringify({ error: message }), 'application/json; charset=utf-8');
  }
}

export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  const log = opts.log ?? (() => undefined);
  const session: Session = { ctx: { op: opts.operator, readJson, reasonOf, idOf, log }, tokenBuf: Buffer.from(token), port: 0 };
  const server = http.createServer((req, res) => handle(session, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = (session.port = typeof addr === 'object' && addr ? addr.port : 0);
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    loginUrl: `${url}#token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
