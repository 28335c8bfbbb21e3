/**
 * The review API: a Lambda function URL with `AuthType: AWS_IAM`, the only way to complete a review task. Its role
 * is the only principal with `states:SendTask*` on the escalation state machine, and the reviewer it records is the
 * caller AWS authenticated (the SigV4 signature, `requestContext.authorizer.iam.userArn`), never a name in the body.
 * The decision is written on the case before the task is completed, and RecordReview reads it from there.
 *
 * Routes (POST, JSON): `/decide` `{caseId, approved, reason, action?, clusterCaseId?}`; `/heartbeat` `{caseId}`.
 */
import { SFNClient, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { assertId } from '../../src/escalate/model';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { OperatorError, storeFromEnv } from './store';
import { SignedDecision, TaskTokenStore } from './task-token-store';

/** The parts of a function URL event (payload format 2.0) the API reads. */
export interface FunctionUrlEvent {
  rawPath?: string;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string }; authorizer?: { iam?: { userArn?: string; callerId?: string; accountId?: string } } };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const MAX_REASON = 2000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let deps: { tokens: TaskTokenStore; sfn: SFNClient } | undefined;

function reply(statusCode: number, body: unknown): FunctionUrlResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The signed caller: AWS puts it in the request context after verifying the signature. */
export function callerArn(event: FunctionUrlEvent): string {
  const arn = event?.requestContext?.authorizer?.iam?.userArn;
  if (typeof arn !== 'string' || !arn.startsWith('arn:') || arn.length > 512 || CONTROL.test(arn)) {
    throw new HttpError(403, `no signed caller identity in the request context, got ${JSON.stringify(arn ?? null)}`);
  }
  return arn;
}

function parseBody(event: FunctionUrlEvent): Record<string, unknown> {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  try {
    const v = JSON.parse(text || '{}');
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new HttpError(400, `the body must be a json object, got ${JSON.stringify(text.slice(0, 80))}`);
}

function caseIdOf(body: Record<string, unknown>): string {
  try {
    assertId('caseId', body.caseId);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  return body.caseId as string;
}

async function decide(d: NonNullable<typeof deps>, caller: string, body: Record<string, unknown>) {
  const caseId = caseIdOf(body);
  if (typeof body.approved !== 'boolean') throw new HttpError(400, `approved must be true or false, got ${JSON.stringify(body.approved ?? null)}`);
  const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
  if (reason.length < 3 || reason.length > MAX_REASON)
    throw new HttpError(400, `a reason of 3..${MAX_REASON} characters is required, got ${JSON.stringify(body.reason ?? '')}`);
  // `body.reviewer`, if any, is ignored: the reviewer is the signed caller.
  const token = await d.tokens.load(caseId);
  if (body.action !== undefined && body.action !== 'suspend' && body.action !== 'restrict')
    throw new HttpError(400, `action must be suspend or restrict, got ${JSON.stringify(body.action)}`);
  const cluster = body.clusterCaseId;
  if (cluster !== undefined && (typeof cluster !== 'string' || !/^[A-Za-z0-9._:@-]{1,128}$/.test(cluster)))
    throw new HttpError(400, `clusterCaseId must be a cluster case id, got ${JSON.stringify(cluster)}`);
  const decision = await d.tokens.recordDecision(caseId, {
    approved: body.approved,
    reviewer: caller,
    reason,
    decidedAt: new Date(d.tokens.store.now()).toISOString(),
    ...(body.action === 'restrict' ? { action: 'restrict' as const } : {}),
    ...(typeof cluster === 'string' ? { clusterCaseId: cluster } : {}),
  });
  await complete(() => d.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(decision) })), caseId);
  metrics.addMetric(decision.approved ? 'ReviewApproved' : 'ReviewRejected', MetricUnit.Count, 1);
  return { caseId, ...decision } satisfies SignedDecision & { caseId: string };
}

async function heartbeat(d: NonNullable<typeof deps>, body: Record<string, unknown>) {
  const caseId = caseIdOf(body);
  const token = await d.tokens.load(caseId);
  await complete(() => d.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })), caseId);
  return { caseId, heartbeat: true };
}

async function complete(call: () => Promise<unknown>, caseId: string): Promise<void> {
  try {
    await call();
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (GONE.has(name)) throw new HttpError(409, `case ${caseId}: the review task is no longer waiting (${name}); it may have passed its deadline`);
    throw err;
  }
}

export async function handler(event: FunctionUrlEvent): Promise<FunctionUrlResult> {
  deps ??= { tokens: new TaskTokenStore(storeFromEnv()), sfn: new SFNClient({}) };
  try {
    const caller = callerArn(event);
    logger.appendKeys({ caller });
    const method = event.requestContext?.http?.method ?? 'POST';
    if (method !== 'POST') throw new HttpError(405, `only POST is accepted, got ${method}`);
    const body = parseBody(event);
    switch (event.rawPath ?? '/') {
      case '/decide':
        return reply(200, await decide(deps, caller, body));
      case '/heartbeat':
        return reply(200, await heartbeat(deps, body));
      default:
        throw new HttpError(404, `unknown route ${JSON.stringify(event.rawPath)} (POST /decide or /heartbeat)`);
    }
  } catch (err) {
    if (err instanceof HttpError) return reply(err.status, { error: err.message });
    if (err instanceof OperatorError) return reply(409, { error: err.message });
    logger.error('review api failed', { error: err as Error });
    return reply(500, { error: `internal error: ${(err as Error).name}` });
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
