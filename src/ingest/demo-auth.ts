/**
 * The demo API's access decision (plain TypeScript, no AWS imports; the Lambda authorizer in
 * lambdas/ingest/authorizer.ts is a thin adapter around it).
 *
 * The demo resolves the customer account from `Authorization: Bearer <accountId>`. A real provider resolves it
 * from its own credentials; what matters for distill-guard is that the authorizer returns the account as
 * `principalId` and its creation time as `context.accountCreatedAt` (docs/contract.md, "Access-log record"), and that it honours the
 * account status distill-guard writes (`ACCOUNT#<id>` / `STATUS` in the control table, docs/DESIGN.md).
 */

import { stepUpRequired } from '../escalate/restriction';

/** Account ids the demo accepts: what the simulator and most providers use, and safe inside a log record. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

/** The parts of the control table's `ACCOUNT#<id>` / `STATUS` item the authorizer reads. */
export interface AccountStatusItem {
  status?: unknown;
  suspendedUntil?: unknown;
  createdAt?: unknown;
  /** A restriction in force (src/escalate/restriction.ts): the account is served, but must step up. */
  stepUp?: unknown;
  restrictedUntil?: unknown;
}

/** `stepUp`: the provider's sign-up or verification flow should ask the account for more (a restriction). */
export type AccessDecision =
  | {
      effect: 'Allow';
      accountId: string;
      accountCreatedAt: string | null;
      reason: 'active' | 'restricted' | 'unknown-account' | 'suspension-expired';
      stepUp: boolean;
    }
  | { effect: 'Deny'; accountId: string; accountCreatedAt: string | null; reason: 'suspended' | 'unknown-account'; stepUp: boolean };

/**
 * The account id from the request headers, or null when there is no well-formed `Bearer <accountId>`.
 * Header names are case-insensitive (API Gateway passes them as the client sent them).
 */
export function accountIdFromHeaders(headers: Record<string, string | undefined> | null | undefined): string | null {
  if (!headers) return null;
  let value: string | undefined;
  for (const [name, v] of Object.entries(headers)) {
    if (name.toLowerCase() === 'authorization') {
      value = v;
      break;
    }
  }
  if (typeof value !== 'string') return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match) return null;
  return ACCOUNT_ID_PATTERN.test(match[1]) ? match[1] : null;
}

/** `createdAt` as epoch ms in a string (the access-log field is a string), from a number or an ISO date. */
export function normaliseCreatedAt(createdAt: unknown): string | null {
  if (typeof createdAt === 'number' && Number.isFinite(createdAt)) return String(Math.trunc(createdAt));
  if (typeof createdAt === 'string' && createdAt !== '') {
    if (/^\d+$/.test(createdAt)) return createdAt;
    const ms = Date.parse(createdAt);
    if (Number.isFinite(ms)) return String(ms);
  }
  return null;
}

/**
 * Allow or deny an account given its STATUS item (undefined when it has none) at time `now` (epoch ms).
 * Denied: `status = suspended` with `suspendedUntil` null/absent (indefinite) or still in the future.
 */
export function decideAccess(
  accountId: string,
  item: AccountStatusItem | undefined,
  now: number,
  options: { allowUnknownAccounts: boolean },
): AccessDecision {
  if (!item) {
    return options.allowUnknownAccounts
      ? { effect: 'Allow', accountId, accountCreatedAt: null, reason: 'unknown-account', stepUp: false }
      : { effect: 'Deny', accountId, accountCreatedAt: null, reason: 'unknown-account', stepUp: false };
  }
  const accountCreatedAt = normaliseCreatedAt(item.createdAt);
  const stepUp = stepUpRequired(item, now);
  if (item.status === 'suspended') {
    const until = typeof item.suspendedUntil === 'number' ? item.suspendedUntil : Number(item.suspendedUntil);
    const indefinite = item.suspendedUntil === null || item.suspendedUntil === undefined || !Number.isFinite(until);
    if (indefinite || until > now) return { effect: 'Deny', accountId, accountCreatedAt, reason: 'suspended', stepUp };
    return { effect: 'Allow', accountId, accountCreatedAt, reason: 'suspension-expired', stepUp };
  }
  // Restricted: served (its keys are on the throttled usage plan), with the step-up flag while it lasts.
  if (item.status === 'restricted' && stepUp) return { effect: 'Allow', accountId, accountCreatedAt, reason: 'restricted', stepUp };
  return { effect: 'Allow', accountId, accountCreatedAt, reason: 'active', stepUp };
}

/**
 * The resource an authorizer policy should cover: the whole stage (`.../<stage>/*`) so a cached policy is
 * valid for every method of the API, derived from the request's method ARN
 * (`arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`).
 */
export function stageWildcardArn(methodArn: string): string {
  const [prefix, stage] = methodArn.split('/');
  if (!prefix || !stage) return methodArn;
  return `${prefix}/${stage}/*`;
}
