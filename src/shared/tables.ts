/**
 * The schema of distill-guard's two DynamoDB tables in one place: index names and their key attributes, the
 * partition-key prefixes and the key builders. The constructs (lib/), the handlers (lambdas/), the domain (src/)
 * and the local runtime all take them from here, so a key is spelled once. docs/DESIGN.md, "Tables", describes
 * every item. Plain data, no AWS or CDK imports: IAM conditions (`dynamodb:LeadingKeys`) are built from the same
 * prefixes, so a writer's prefix must never hold an item another role decides.
 */

/** Key attributes of both tables' one GSI. */
export const GSI_PK = 'gsi1pk';
export const GSI_SK = 'gsi1sk';

// ---------------- features table ----------------

/** GSI of the features table: `gsi1pk = H#<windowStart>#<bucket>`, `gsi1sk = accountId`. */
export const FEATURES_BY_HOUR_INDEX = 'byHour';
/** Partitions of an hour in the `byHour` index (no hot GSI key). */
export const GSI_BUCKETS = 16;
export const ACCOUNT_PREFIX = 'A#';
export const WINDOW_PREFIX = 'W#';
export const MODEL_PREFIX = 'MODEL#';
export const MODEL_FIRST_SK = 'FIRST';

/** `A#<accountId>`: the partition of an account's windows. */
export function accountPk(accountId: string): string {
  return ACCOUNT_PREFIX + accountId;
}

/** `W#<windowStart ms, 13 digits>`: one AccountWindow. */
export function windowSk(windowStart: number): string {
  return WINDOW_PREFIX + String(windowStart).padStart(13, '0');
}

/** `H#<windowStart>#<bucket>`: query all buckets of an hour to list its active accounts. */
export function hourGsiPk(windowStart: number, bucket: number): string {
  return `H#${windowStart}#${bucket}`;
}

// ---------------- control table ----------------

/** GSI of the control table: cases by state, suspended accounts, allowlist, claims, feedback, audit by day, outbox. */
export const CONTROL_BY_STATE_INDEX = 'byState';

/**
 * Partition-key prefixes. IAM scopes each writer by them (`dynamodb:LeadingKeys`), so a writer's prefix must never
 * hold an item another role decides: the scorer writes only `SCORE#`, never the `ACCOUNT#` status it cannot change.
 */
export const PK_PREFIX = {
  account: 'ACCOUNT#',
  score: 'SCORE#',
  case: 'CASE#',
  allow: 'ALLOW#',
  breaker: 'BREAKER',
  config: 'CONFIG',
  /** Reviewer feedback counters per signal and per reason combination (lambdas/escalate/feedback.ts). */
  feedback: 'FEEDBACK#',
  /** A reviewer's claim on a case under review (ops/queue-query.ts): advisory, with a lease. */
  claim: 'CLAIM#',
} as const;

/** Sort-key prefix of a case's audit entries (`CASE#<id>` / `AUDIT#<iso>#<seq>`) and of a cluster case's. */
export const AUDIT_SK_PREFIX = 'AUDIT#';

export const pad13 = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(13, '0');

export const keys = {
  accountStatus: (accountId: string) => ({ pk: `${PK_PREFIX.account}${accountId}`, sk: 'STATUS' }),
  /** The scorer's latest score for an account: its own partition, apart from the account's STATUS. */
  accountScore: (accountId: string) => ({ pk: `${PK_PREFIX.score}${accountId}`, sk: 'SCORE' }),
  case: (caseId: string) => ({ pk: `${PK_PREFIX.case}${caseId}`, sk: 'CASE' }),
  allow: (accountId: string) => ({ pk: `${PK_PREFIX.allow}${accountId}`, sk: 'ALLOW' }),
  breakerState: () => ({ pk: PK_PREFIX.breaker, sk: 'STATE' }),
  breakerHour: (hourStart: number) => ({ pk: PK_PREFIX.breaker, sk: `HOUR#${new Date(hourStart).toISOString().slice(0, 13)}` }),
  shadowConfig: () => ({ pk: PK_PREFIX.config, sk: 'SHADOW' }),
  /** Operator actions that concern no case (allowlist, breaker, shadow) are audited under this pseudo-case. */
  opsAuditCase: () => 'OPS',
  claim: (caseId: string) => ({ pk: `${PK_PREFIX.claim}${caseId}`, sk: 'CLAIM' }),
};

/** GSI `byState` partition of cases in a state (`open`, `review`, `overdue`, `closed`). */
export const caseStateGsiPk = (state: string) => `CASES#${state}`;
/** GSI `byState` partition of suspended accounts (sort key: suspendedUntil, 13 digits), read by the expirer. */
export const SUSPENDED_GSI_PK = 'ACCOUNTS#suspended';
/** GSI `byState` partition of restricted accounts (sort key: restrictedUntil, 13 digits), read by the expirer. */
export const RESTRICTED_GSI_PK = 'ACCOUNTS#restricted';
/** GSI `byState` partition of allowlist entries (sort key: accountId). */
export const ALLOW_GSI_PK = 'ALLOW';
/** GSI `byState` partition of the claims on cases (sort key: caseId). */
export const CLAIMS_GSI_PK = 'CLAIMS';
/** GSI `byState` partition of the reviewer feedback counters (sort key: `signal#<name>` or `combo#<a+b>`). */
export const FEEDBACK_GSI_PK = 'FEEDBACK';
/** GSI `byState` partition of the audit entries of one UTC day. */
export const auditDayGsiPk = (at: string) => `${AUDIT_SK_PREFIX}${at.slice(0, 10)}`;

/** Sort key of an audit entry: time-ordered, unique per (time, seq). */
export function auditSk(at: string, seq = 0): string {
  return `${AUDIT_SK_PREFIX}${at}#${String(seq).padStart(3, '0')}`;
}

/** Partition-key prefix and sort key of the transactional outbox's items. */
export const OUTBOX_PK_PREFIX = 'OUTBOX#';
export const OUTBOX_SK = 'EVENT';
/** Sparse GSI `byState` key of outbox items not yet published; removed when the publisher marks the item. */
export const OUTBOX_PENDING_GSI_PK = 'OUTBOX#pending';
/** GSI `byState` key of outbox items that can never be published (kept, never expire). */
export const OUTBOX_POISON_GSI_PK = 'OUTBOX#poison';

/** Cluster cases: `CLUSTERCASE#<clusterCaseId>` (src/escalate/cluster-case.ts). */
export const CLUSTER_PK_PREFIX = 'CLUSTERCASE#';
/** GSI `byState` partition of cluster cases in a state (sort key: createdAt). */
export const clusterStateGsiPk = (state: string) => `CLUSTERCASES#${state}`;
