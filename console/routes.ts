/**
 * The console's routes for working the queue and running the guardrails: the queue view (sort, filter, find,
 * claims), claim/next, manual suspension and re-opening, allowlist/breaker/shadow controls, the audit view (JSON
 * and CSV) and reviewer feedback per signal. Kept apart from console/server.ts, which owns the session, Host,
 * Origin and token checks and calls `route` only for requests that passed them. Every action takes a reason;
 * identities come from the Operator (STS), never from the request.
 */
import type * as http from 'http';
import type { Operator } from '../ops/operator';
import { OperatorError } from '../lambdas/escalate/store';
import { auditCsv, listAudit, parseSince } from '../ops/audit-query';
import { signalFeedback } from '../ops/feedback-query';
import { approveWhenReady, reopenCase, requestSuspension } from '../ops/manual-actions';
import { claimCase, claimNext, queueView, releaseClaim } from '../ops/queue-query';
import { QueueFilter, parseSort } from '../src/escalate/queue-view';

/** A non-JSON answer (the CSV export). */
export class RawResponse {
  constructor(
    readonly type: string,
    readonly body: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface RouteContext {
  op: Operator;
  readJson(req: http.IncomingMessage): Promise<Record<string, unknown>>;
  reasonOf(body: Record<string, unknown>): string;
  idOf(v: string, what: 'case' | 'account'): string;
  log(line: string): void;
}

/** Thrown for a bad request (400) by the routes. */
export class BadRequest extends OperatorError {}

const str = (v: unknown, what: string, max = 200): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) throw new BadRequest(`${what} must be text of at most ${max} characters, got ${JSON.stringify(v)}`);
  return v;
};

function filterOf(q: URLSearchParams | Record<string, unknown>): QueueFilter & { sort: ReturnType<typeof parseSort> } {
  const get = (k: string) => (q instanceof URLSearchParams ? (q.get(k) ?? undefined) : q[k]);
  try {
    return {
      sort: parseSort(get('sort')),
      reason: str(get('reason'), 'reason'),
      decision: str(get('decision'), 'decision'),
      cluster: str(get('cluster'), 'cluster'),
      find: str(get('find'), 'find'),
    };
  } catch (err) {
    throw new BadRequest((err as Error).message);
  }
}

function auditFilterOf(q: URLSearchParams, nowMs: number) {
  try {
    return {
      sinceMs: parseSince(q.get('since') || '7d', nowMs),
      actor: str(q.get('actor'), 'actor'),
      accountId: str(q.get('account'), 'account'),
      action: str(q.get('action'), 'action'),
      limit: 2000,
    };
  } catch (err) {
    throw new BadRequest((err as Error).message);
  }
}

export async function routeGet(ctx: RouteContext, p: string, url: URL): Promise<unknown> {
  const { op } = ctx;
  if (p === '/api/queue') {
    const f = filterOf(url.searchParams);
    const [review, overdue, me] = await Promise.all([
      queueView(op, { ...f, states: ['review'] }),
      queueView(op, { ...f, states: ['overdue'] }),
      op.identity(),
    ]);
    return { review, overdue, me, now: op.store.now() };
  }
  if (p === '/api/audit') return listAudit(op.store, auditFilterOf(url.searchParams, op.store.now()));
  if (p === '/api/audit.csv') {
    const csv = auditCsv(await listAudit(op.store, auditFilterOf(url.searchParams, op.store.now())));
    return new RawResponse('text/csv; charset=utf-8', csv, { 'Content-Disposition': 'attachment; filename="distill-guard-audit.csv"' });
  }
  if (p === '/api/signals') return signalFeedback(op.store);
  if (p === '/api/breaker') return op.breakerStatus({ withActive: false });
  return undefined;
}

export async function routePost(ctx: RouteContext, p: string, req: http.IncomingMessage): Promise<unknown> {
  const { op, log } = ctx;
  let m: RegExpExecArray | null;
  if ((m = /^\/api\/cases\/([^/]+)\/(claim|release|reopen)$/.exec(p))) {
    const caseId = ctx.idOf(m[1], 'case');
    const body = await ctx.readJson(req);
    if (m[2] === 'claim') return claimCase(op, caseId);
    if (m[2] === 'release') return releaseClaim(op, caseId).then(() => ({ released: caseId }));
    const r = await reopenCase(op, caseId, ctx.reasonOf(body));
    log(`re-opened ${caseId} as ${r.caseId}`);
    return r;
  }
  if (p === '/api/next') {
    const body = await ctx.readJson(req);
    const after = body.after === undefined ? undefined : ctx.idOf(String(body.after), 'case');
    return (await claimNext(op, { ...filterOf(body), after })) ?? null;
  }
  if ((m = /^\/api\/accounts\/([^/]+)\/suspend$/.exec(p))) {
    const accountId = ctx.idOf(m[1], 'account');
    const body = await ctx.readJson(req);
    const reason = ctx.reasonOf(body);
    const started = await requestSuspension(op, accountId, reason);
    log(`manual case ${started.caseId} for ${accountId}`);
    if (body.approve !== true) return started;
    return { ...started, ...(await approveWhenReady(op, started.caseId, reason)) };
  }
  if (p === '/api/allowlist') {
    const body = await ctx.readJson(req);
    const accountId = ctx.idOf(String(body.accountId ?? ''), 'account');
    const days = Number(body.days);
    if (!Number.isFinite(days) || days <= 0) throw new BadRequest(`days must be a positive number, got ${JSON.stringify(body.days)}`);
    return op.allowlistAdd(accountId, String(body.owner ?? ''), ctx.reasonOf(body), op.store.now() + days * 86_400_000);
  }
  if ((m = /^\/api\/allowlist\/([^/]+)\/remove$/.exec(p))) {
    const accountId = ctx.idOf(m[1], 'account');
    await op.allowlistRemove(accountId, ctx.reasonOf(await ctx.readJson(req)));
    return { removed: accountId };
  }
  if (p === '/api/breaker/rearm') return op.breakerRearm(ctx.reasonOf(await ctx.readJson(req)));
  if (p === '/api/shadow') {
    const body = await ctx.readJson(req);
    const reason = ctx.reasonOf(body);
    const signals = body.signals;
    if (
      typeof body.global !== 'boolean' ||
      !Array.isArray(signals) ||
      signals.some((s) => typeof s !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(s))
    ) {
      throw new BadRequest(`shadow needs {global: boolean, signals: [signal names]}, got ${JSON.stringify({ global: body.global, signals })}`);
    }
    await op.setShadow({ global: body.global, signals: [...new Set(signals as string[])] }, reason);
    return op.shadowStatus();
  }
  return undefined;
}
