/**
 * The escalation domain: workflow input, cases, audit entries and the control-table keys they live under
 * (docs/DESIGN.md "Control table"). Plain TypeScript, no AWS imports.
 */
import type { ReasonDetail } from '../notify/ban-event';
import { assertAccountId, isValidAccountId } from '../shared/account-id';
import { PK_PREFIX, auditDayGsiPk, auditSk } from '../shared/tables';

/** What the scorer passes to StartExecution (docs/DESIGN.md "Workflow input"); execution name = caseId. */
export interface WorkflowInput {
  caseId: string;
  accountId: string;
  decision: 'review' | 'suspend';
  /**
   * The step the detection policy recommends for a `review` case: `restrict` throttles the account and asks for a
   * step-up while a human reviews it (src/escalate/restriction.ts). Absent: review only.
   */
  recommendedAction?: RecommendedAction;
  score: number;
  reasons: string[];
  reasonDetails?: ReasonDetail[];
  clusterId?: string | null;
  relatedAccountIds?: string[];
  /** Epoch ms (log time) when the account first reached review/suspend. */
  flaggedAt: number;
  evidence?: Record<string, unknown>;
}

/** Case states; `gsi1pk = CASES#<state>`. `open` only between RecordCase and the guardrail decision. */
export const CASE_STATES = ['open', 'review', 'overdue', 'closed'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** What the policy may recommend beyond a review (`WorkflowInput.recommendedAction`). */
export type RecommendedAction = 'restrict';

/** How a case ended. */
export type CaseOutcome = 'suspended' | 'restricted' | 'rejected' | 'dismissed' | 'allowlisted' | 'shadow' | 'overdue' | 'duplicate' | 'error';

/** Where the guardrails send a case. `restrict` applies a restriction, then asks a human (restrict plus review). */
export type Route = 'suspend' | 'restrict' | 'review' | 'dismiss';

export interface TimelinePoint {
  /** Start of the bucket, epoch ms. */
  t: number;
  n: number;
  /** Requests per model in the bucket. */
  models: Record<string, number>;
  /** Requests per prompt class in the bucket (usage events only). */
  promptClasses: Record<string, number>;
  errors: number;
}

export interface ClusterMember {
  accountId: string;
  /** What links it to the case's account (shared IP hashes, subnets, user agents, templates, synchronized minutes ...). */
  links: string[];
  status?: string;
  score?: number;
}

/** The evidence snapshot stored on a case: what the reviewer sees, frozen at the time the case opened. */
export interface Evidence {
  /** Hourly activity of the account (oldest first). */
  timeline: TimelinePoint[];
  totals: {
    requests: number;
    errors: number;
    models: Record<string, number>;
    promptClasses: Record<string, number>;
    inputTokens: number;
    outputTokens: number;
  };
  /** API key ids seen in the account's traffic (evidence: a suspension disables only the keys the account owns). */
  apiKeys: string[];
  ips: number;
  subnets: string[];
  userAgents: string[];
  templates: string[];
  accountCreatedAt: number | null;
  cluster: ClusterMember[];
  /** Anything extra the scorer attached (passed through). */
  scorer?: Record<string, unknown>;
}

export interface CaseRecord {
  pk: string;
  sk: 'CASE';
  caseId: string;
  accountId: string;
  state: CaseState;
  outcome?: CaseOutcome;
  /** What the scorer decided. */
  decision: 'review' | 'suspend';
  /** The step the policy recommended for a review case (`restrict`), when any. */
  recommendedAction?: RecommendedAction;
  /** The restriction this case applied (status ACCOUNT#, keys moved to the restricted usage plan), until lifted. */
  restriction?: { until: number; keys: string[]; at: string; by: string };
  /** Keys recorded before they are moved to the restricted usage plan, until the restriction commits or is undone. */
  pendingKeyRestrict?: string[];
  /** What the guardrails routed it to (and why), once known. */
  route?: Route;
  routeReasons?: string[];
  /** True when the decision was computed and recorded but not applied (shadow mode). */
  shadow?: boolean;
  /** What would have happened without shadow mode. */
  shadowRoute?: Route;
  score: number;
  reasons: string[];
  reasonDetails: ReasonDetail[];
  clusterId: string | null;
  relatedAccountIds: string[];
  flaggedAt: number;
  createdAt: string;
  updatedAt: string;
  /** Review deadline, ISO, when the case went to review. */
  reviewDeadline?: string;
  decidedBy?: string;
  decidedAt?: string;
  decisionReason?: string;
  suspendedUntil?: number | null;
  offence?: number;
  evidence: Evidence;
  gsi1pk: string;
  gsi1sk: string;
  executionArn?: string;
  /** When the guardrails routed the case (ISO); the decision time of an auto-suspension. */
  routedAt?: string;
  /** The breaker's limit when the case was routed (auto-suspensions in the sliding hour), enforced at apply. */
  breakerLimit?: number;
  /** Keys recorded before they were disabled, until the suspension commits or is compensated. */
  pendingKeyDisable?: string[];
  /**
   * API keys seen in the account's traffic that it does not own (shared with, or owned by, other accounts):
   * recorded as evidence when the suspension is applied, never disabled. `owner` is the key's customerId.
   */
  keysSeenNotDisabled?: { id: string; owner: string | null; deleted?: boolean }[];
  disabledKeyIds?: string[];
  reinstatedAt?: string;
  reinstatedBy?: string;
  error?: string;
  /** DynamoDB TTL (epoch seconds): the case and its evidence are deleted after the retention period. */
  expiresAt?: number;
}

/** Who did what, when and why. Append-only: each is a conditional put under `CASE#<id>` / `AUDIT#<iso>#<seq>`. */
export interface AuditEntry {
  pk: string;
  sk: string;
  caseId: string;
  accountId: string;
  at: string;
  /** `auto` (the workflow), `system:<component>` or the operator's identity (IAM ARN / local user). */
  actor: string;
  action: AuditAction;
  reason?: string;
  details?: Record<string, unknown>;
  /** DynamoDB TTL (epoch seconds), `at` plus the retention period. */
  expiresAt?: number;
  /** GSI `byState`: `AUDIT#<yyyy-mm-dd>` / `<at>#<caseId>#<seq>`, so `audit list` reads the trail by day. */
  gsi1pk?: string;
  gsi1sk?: string;
}

export type AuditAction =
  | 'case-opened'
  | 'case-duplicate'
  | 'routed'
  | 'shadow-recorded'
  | 'review-requested'
  | 'review-approved'
  | 'review-rejected'
  | 'review-overdue'
  | 'suspended'
  | 'suspension-aborted'
  | 'suspension-compensated'
  | 'dismissed'
  | 'reinstated'
  | 'suspension-expired'
  | 'restricted'
  | 'restriction-aborted'
  | 'restriction-lifted'
  | 'restriction-expired'
  | 'allowlist-added'
  | 'allowlist-removed'
  | 'breaker-tripped'
  | 'breaker-rearmed'
  | 'shadow-changed'
  | 'case-error'
  | 'manual-case-requested'
  | 'case-reopened'
  | 'cluster-decided'
  | 'cluster-member-excluded';

// ---- keys ----

// The control table's keys live with the rest of the table schema (src/shared/tables.ts); re-exported for the
// domain code that builds cases and audit entries.
export {
  ALLOW_GSI_PK,
  CLAIMS_GSI_PK,
  FEEDBACK_GSI_PK,
  PK_PREFIX,
  RESTRICTED_GSI_PK,
  SUSPENDED_GSI_PK,
  auditDayGsiPk,
  auditSk,
  caseStateGsiPk,
  keys,
  pad13,
} from '../shared/tables';

/** Days cases and audit entries are kept when the deployment does not say (the `caseRetention` default). */
export const DEFAULT_CASE_RETENTION_DAYS = 365;

/** DynamoDB TTL (`expiresAt`, epoch seconds) of a case or audit entry written at `atMs`. */
export function recordExpiresAt(atMs: number, retentionDays = DEFAULT_CASE_RETENTION_DAYS): number {
  return Math.floor(atMs / 1000) + Math.round(retentionDays * 86_400);
}

export function auditEntry(e: Omit<AuditEntry, 'pk' | 'sk' | 'expiresAt'>, seq = 0, retentionDays = DEFAULT_CASE_RETENTION_DAYS): AuditEntry {
  const at = Date.parse(e.at);
  const sk = auditSk(e.at, seq);
  return {
    pk: `${PK_PREFIX.case}${e.caseId}`,
    sk,
    ...e,
    expiresAt: recordExpiresAt(Number.isFinite(at) ? at : Date.now(), retentionDays),
    gsi1pk: auditDayGsiPk(e.at),
    gsi1sk: `${e.at}#${e.caseId}#${sk.slice(-3)}`,
  };
}

const ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;
/**
 * Ids end up in keys, names and URLs, checked at every entry point. Account ids (`what` = `accountId`) follow the one
 * account-id rule of src/shared/account-id.ts, exactly what ingest accepts (`auth0|abc`, non-ASCII, 256 characters);
 * other ids (case ids, which distill-guard makes itself) keep a conservative charset.
 */
export function assertId(what: string, value: unknown): string {
  if (what === 'accountId') return assertAccountId(value, what);
  if (typeof value !== 'string' || !ID_RE.test(value)) {
    throw new Error(`${what} must match ${ID_RE.source}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validate the workflow input (the scorer's StartExecution payload). Throws with the offending value. */
export function parseWorkflowInput(raw: unknown): WorkflowInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`workflow input must be an object, got ${JSON.stringify(raw)}`);
  const r = raw as Record<string, unknown>;
  assertId('caseId', r.caseId);
  assertId('accountId', r.accountId);
  if (r.decision !== 'review' && r.decision !== 'suspend') throw new Error(`decision must be review or suspend, got ${JSON.stringify(r.decision)}`);
  if (typeof r.score !== 'number' || !Number.isFinite(r.score)) throw new Error(`score must be a finite number, got ${JSON.stringify(r.score)}`);
  if (!Array.isArray(r.reasons) || r.reasons.some((x) => typeof x !== 'string'))
    throw new Error(`reasons must be an array of strings, got ${JSON.stringify(r.reasons)}`);
  const flaggedAt = typeof r.flaggedAt === 'number' && Number.isFinite(r.flaggedAt) ? r.flaggedAt : Date.now();
  if (r.recommendedAction !== undefined && r.recommendedAction !== null && r.recommendedAction !== 'restrict') {
    throw new Error(`recommendedAction must be restrict or absent, got ${JSON.stringify(r.recommendedAction)}`);
  }
  const related = Array.isArray(r.relatedAccountIds) ? r.relatedAccountIds.filter(isValidAccountId) : [];
  return {
    caseId: r.caseId as string,
    accountId: r.accountId as string,
    decision: r.decision,
    ...(r.decision === 'review' && r.recommendedAction === 'restrict' ? { recommendedAction: 'restrict' as const } : {}),
    score: r.score,
    reasons: r.reasons as string[],
    reasonDetails: Array.isArray(r.reasonDetails) ? (r.reasonDetails as ReasonDetail[]) : [],
    clusterId: typeof r.clusterId === 'string' ? r.clusterId : null,
    relatedAccountIds: related,
    flaggedAt,
    evidence: r.evidence && typeof r.evidence === 'object' ? (r.evidence as Record<string, unknown>) : {},
  };
}

/** Encryption-context `purpose` of a stored review task token: the KMS grants of the review path are conditioned on it. */
export const TASK_TOKEN_PURPOSE = 'review-task-token';
