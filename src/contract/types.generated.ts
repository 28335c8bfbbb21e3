/* eslint-disable */
/**
 * Types of the public formats (docs/contract.md), generated from schemas/*.json by `npm run gen:types`.
 * Do not edit: change the schema and regenerate (a test fails when this file and the schemas differ).
 */

/**
 * One API Gateway access-log record, as the stage writes it with the format distill-guard configures (one JSON object per log event). Every value is quoted, so every value is a string; API Gateway writes `-` where a value is missing. `x-context-variable` is the `$context` variable each key is filled from. Readers must ignore keys they do not know.
 */
export interface AccessLogRecord {
  /**
   * Unique per request.
   */
  requestId: string;
  /**
   * Milliseconds since epoch, as a string.
   */
  requestTimeEpoch: string;
  /**
   * CLF time, e.g. `02/Nov/2026:00:00:09 +0000`.
   */
  requestTime: string;
  /**
   * The customer account the Lambda authorizer resolved.
   */
  accountId: string;
  /**
   * `-` when the request used no API key.
   */
  apiKeyId: string;
  /**
   * Client IP address (hashed and truncated at ingest, never stored whole).
   */
  sourceIp: string;
  /**
   * Client user agent.
   */
  userAgent: string;
  /**
   * HTTP method.
   */
  httpMethod: string;
  /**
   * E.g. `/prod/v1/models/claude-sonnet-5/messages`: the model id is the path segment after `/models/`.
   */
  path: string;
  /**
   * HTTP status as a string.
   */
  status: string;
  /**
   * Bytes, a string; `-` possible.
   */
  responseLength: string;
  /**
   * Milliseconds, a string; `-` possible.
   */
  integrationLatency: string;
  /**
   * Milliseconds since epoch, a string; `-` when the authorizer does not supply it.
   */
  accountCreatedAt: string;
  [k: string]: unknown;
}

/**
 * One usage event from the model-serving tier, one JSON object per request, put on the ingestion stream. It carries content signals (a coarse prompt class and a template hash) so the raw prompt never leaves the serving tier. Optional: detection works from access logs alone and works better with usage events. Readers must ignore keys they do not know.
 */
export interface UsageEvent {
  /**
   * Always `usage`: tells a usage event from an access-log record on a shared stream.
   */
  type: "usage";
  /**
   * The API Gateway `requestId` of the request (joins the event to its access-log record).
   */
  requestId: string;
  /**
   * The customer account, as the authorizer resolved it (same value as the access-log `accountId`).
   */
  accountId: string;
  /**
   * Time of the request, milliseconds since epoch.
   */
  timestamp: number;
  /**
   * Model id, e.g. `claude-sonnet-5`.
   */
  model: string;
  /**
   * Coarse class of the prompt. Ingest reads a class it does not know as `other`.
   */
  promptClass: "chat" | "coding" | "agentic" | "vision" | "cot_elicitation" | "rewrite" | "other";
  /**
   * Hash of the normalised prompt template: same template, same id, across accounts.
   */
  templateId: string;
  /**
   * Input tokens of the request.
   */
  inputTokens: number;
  /**
   * Output tokens of the response.
   */
  outputTokens: number;
  [k: string]: unknown;
}

/**
 * What `npx distill-guard replay --logs LOGS --out REPORT.json` writes: one decision per account it acted on or watched, and the clusters acted on. An account not listed counts as `allow`. Readers must ignore keys they do not know.
 */
export interface ReplayReport {
  /**
   * One entry per account with a decision stronger than `allow`.
   */
  accounts: ReplayAccount[];
  /**
   * The clusters whose evidence raised a member to `review` or stronger.
   */
  clusters: ReplayCluster[];
  /**
   * Clusters that only reached `monitor`, or whose only flagged member was flagged on its own traffic; listed apart from `clusters`.
   */
  monitoredClusters?: ReplayCluster[];
  /**
   * Input accounting (lines read, lines skipped as malformed, by reason).
   */
  input?: {
    [k: string]: unknown;
  };
  /**
   * Counts of accounts seen, per decision, and of clusters.
   */
  summary?: {
    [k: string]: unknown;
  };
  /**
   * How detection ran (runs, intervals, models, linkage statistics, configuration).
   */
  detection?: {
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
/**
 * The decision on one account at the end of the replay.
 */
export interface ReplayAccount {
  /**
   * The customer account.
   */
  accountId: string;
  /**
   * Strongest first: `suspend` (would be auto-suspended), `restrict` (would be throttled or asked to verify, and sent to review), `review` (sent to the human review queue), `monitor`, `allow`.
   */
  decision: "suspend" | "restrict" | "review" | "monitor" | "allow";
  /**
   * Suspicion score (0..1).
   */
  score: number;
  /**
   * Signal names behind the decision, e.g. `synchronized-activity`, `shared-templates`.
   */
  reasons: string[];
  /**
   * The cluster of linked accounts, null when none.
   */
  clusterId: string | null;
  /**
   * Log time (epoch ms) at which the account first reached `review`, `restrict` or `suspend`; null otherwise.
   */
  firstFlaggedAt: number | null;
  [k: string]: unknown;
}
/**
 * A cluster of linked accounts that was acted on.
 */
export interface ReplayCluster {
  /**
   * Cluster id, as in `accounts[].clusterId`.
   */
  clusterId: string;
  /**
   * Member accounts.
   */
  accountIds: string[];
  /**
   * Signals linking the members.
   */
  reasons: string[];
  [k: string]: unknown;
}

/**
 * distill-guard "Account Flagged" event (EventBridge envelope; the detail is definitions.AccountFlagged). A case was opened for the account: the scorer crossed a threshold (decision "review": queued for a human; "suspend": auto-suspension follows unless a guardrail holds it).
 */
export interface AccountFlaggedEvent {
  version?: string;
  id?: string;
  "detail-type": "Account Flagged";
  source: "distill-guard";
  account?: string;
  time?: string;
  region?: string;
  resources?: string[];
  "replay-name"?: string;
  detail: AccountFlagged;
  [k: string]: unknown;
}
/**
 * A case was opened for the account: the scorer crossed a threshold (decision "review": queued for a human; "suspend": auto-suspension follows unless a guardrail holds it). Consumers must ignore fields they do not know (additionalProperties is true by policy).
 */
export interface AccountFlagged {
  /**
   * MAJOR.MINOR of this detail shape. Pin the major in your event pattern: {"prefix": "1."}.
   */
  schemaVersion: string;
  /**
   * De-duplication key. Deterministic (UUIDv5 of detail type, account, case, decision time): every delivery and every retry of one decision carries the same id.
   */
  eventId: string;
  /**
   * The customer account the decision is about.
   */
  accountId: string;
  /**
   * The distill-guard case behind the decision.
   */
  caseId: string;
  /**
   * "auto" when the pipeline decided, otherwise the reviewer's identity.
   */
  decidedBy: string;
  /**
   * Signal names behind the decision, e.g. "synchronized-activity", "shared-templates".
   */
  reasons: string[];
  /**
   * Suspicion score at decision time (0..1).
   */
  score: number;
  /**
   * Cluster of linked accounts this account belongs to, null when none.
   */
  clusterId: string | null;
  /**
   * Other accounts linked to this one (same cluster).
   */
  relatedAccountIds: string[];
  /**
   * Time of the decision, ISO-8601 UTC.
   */
  decidedAt: string;
  /**
   * Time of the decision, epoch milliseconds (same instant as decidedAt). The ordering key: per accountId, apply an event only if its decidedAtMs is newer than the last one applied (delivery is unordered).
   */
  decidedAtMs: number;
  /**
   * Human-readable evidence per signal.
   */
  reasonDetails?: {
    signal: string;
    value?: number;
    baseline?: number;
    text?: string;
    [k: string]: unknown;
  }[];
  /**
   * True when the decision was recorded in shadow mode and not enforced.
   */
  shadow?: boolean;
  /**
   * What the scorer decided.
   */
  decision: "review" | "suspend";
  [k: string]: unknown;
}

/**
 * distill-guard "Account Restricted" event (EventBridge envelope; the detail is definitions.AccountRestricted). The account was restricted: its API keys moved to a throttled usage plan and a step-up flag set on its status (the authorizer exposes it as stepUp), automatically (restrict plus review), by a reviewer or by an operator. It is lifted at restrictedUntil or by reinstatement (Account Reinstated).
 */
export interface AccountRestrictedEvent {
  version?: string;
  id?: string;
  "detail-type": "Account Restricted";
  source: "distill-guard";
  account?: string;
  time?: string;
  region?: string;
  resources?: string[];
  "replay-name"?: string;
  detail: AccountRestricted;
  [k: string]: unknown;
}
/**
 * The account was restricted: its API keys moved to a throttled usage plan and a step-up flag set on its status (the authorizer exposes it as stepUp), automatically (restrict plus review), by a reviewer or by an operator. It is lifted at restrictedUntil or by reinstatement (Account Reinstated). Consumers must ignore fields they do not know (additionalProperties is true by policy).
 */
export interface AccountRestricted {
  /**
   * MAJOR.MINOR of this detail shape (this detail type exists from 1.1). Pin the major in your event pattern: {"prefix": "1."}.
   */
  schemaVersion: string;
  /**
   * De-duplication key. Deterministic (UUIDv5 of detail type, account, case, decision time): every delivery and every retry of one decision carries the same id.
   */
  eventId: string;
  /**
   * The customer account the decision is about.
   */
  accountId: string;
  /**
   * The distill-guard case behind the decision.
   */
  caseId: string;
  /**
   * "auto" when the pipeline decided, otherwise the reviewer's identity.
   */
  decidedBy: string;
  /**
   * Signal names behind the decision, e.g. "synchronized-activity", "shared-templates".
   */
  reasons: string[];
  /**
   * Suspicion score at decision time (0..1).
   */
  score: number;
  /**
   * Cluster of linked accounts this account belongs to, null when none.
   */
  clusterId: string | null;
  /**
   * Other accounts linked to this one (same cluster).
   */
  relatedAccountIds: string[];
  /**
   * Time of the decision, ISO-8601 UTC.
   */
  decidedAt: string;
  /**
   * Time of the decision, epoch milliseconds (same instant as decidedAt). The ordering key: per accountId, apply an event only if its decidedAtMs is newer than the last one applied (delivery is unordered).
   */
  decidedAtMs: number;
  /**
   * Human-readable evidence per signal.
   */
  reasonDetails?: {
    signal: string;
    value?: number;
    baseline?: number;
    text?: string;
    [k: string]: unknown;
  }[];
  /**
   * True when the decision was recorded in shadow mode and not enforced.
   */
  shadow?: boolean;
  /**
   * End of the restriction, ISO-8601 UTC: the keys go back to their usage plan and the step-up flag is cleared then (Account Reinstated, reinstatedReason restriction-expired).
   */
  restrictedUntil: string;
  /**
   * True: the provider's sign-up or verification flow should ask the account for more before serving it again (the authorizer's stepUp context value).
   */
  stepUp: boolean;
  /**
   * How many of the account's API keys were moved to the restricted usage plan (0 when the deployment manages no usage plans).
   */
  apiKeysRestricted?: number;
  /**
   * Length of the restriction, ms.
   */
  durationMs?: number;
  [k: string]: unknown;
}

/**
 * distill-guard "Account Suspended" event (EventBridge envelope; the detail is definitions.AccountSuspended). The account was suspended (its status and API keys disabled) automatically or by a reviewer.
 */
export interface AccountSuspendedEvent {
  version?: string;
  id?: string;
  "detail-type": "Account Suspended";
  source: "distill-guard";
  account?: string;
  time?: string;
  region?: string;
  resources?: string[];
  "replay-name"?: string;
  detail: AccountSuspended;
  [k: string]: unknown;
}
/**
 * The account was suspended (its status and API keys disabled) automatically or by a reviewer. Consumers must ignore fields they do not know (additionalProperties is true by policy).
 */
export interface AccountSuspended {
  /**
   * MAJOR.MINOR of this detail shape. Pin the major in your event pattern: {"prefix": "1."}.
   */
  schemaVersion: string;
  /**
   * De-duplication key. Deterministic (UUIDv5 of detail type, account, case, decision time): every delivery and every retry of one decision carries the same id.
   */
  eventId: string;
  /**
   * The customer account the decision is about.
   */
  accountId: string;
  /**
   * The distill-guard case behind the decision.
   */
  caseId: string;
  /**
   * "auto" when the pipeline decided, otherwise the reviewer's identity.
   */
  decidedBy: string;
  /**
   * Signal names behind the decision, e.g. "synchronized-activity", "shared-templates".
   */
  reasons: string[];
  /**
   * Suspicion score at decision time (0..1).
   */
  score: number;
  /**
   * Cluster of linked accounts this account belongs to, null when none.
   */
  clusterId: string | null;
  /**
   * Other accounts linked to this one (same cluster).
   */
  relatedAccountIds: string[];
  /**
   * Time of the decision, ISO-8601 UTC.
   */
  decidedAt: string;
  /**
   * Time of the decision, epoch milliseconds (same instant as decidedAt). The ordering key: per accountId, apply an event only if its decidedAtMs is newer than the last one applied (delivery is unordered).
   */
  decidedAtMs: number;
  /**
   * Human-readable evidence per signal.
   */
  reasonDetails?: {
    signal: string;
    value?: number;
    baseline?: number;
    text?: string;
    [k: string]: unknown;
  }[];
  /**
   * True when the decision was recorded in shadow mode and not enforced.
   */
  shadow?: boolean;
  /**
   * End of the suspension, ISO-8601 UTC; null = indefinite.
   */
  suspendedUntil: string | null;
  /**
   * The account's offence count including this one.
   */
  offence?: number;
  [k: string]: unknown;
}

/**
 * distill-guard "Account Reinstated" event (EventBridge envelope; the detail is definitions.AccountReinstated). The account was reinstated: the suspension expired, a reviewer overturned it, or an appeal was granted.
 */
export interface AccountReinstatedEvent {
  version?: string;
  id?: string;
  "detail-type": "Account Reinstated";
  source: "distill-guard";
  account?: string;
  time?: string;
  region?: string;
  resources?: string[];
  "replay-name"?: string;
  detail: AccountReinstated;
  [k: string]: unknown;
}
/**
 * The account was reinstated: the suspension expired, a reviewer overturned it, or an appeal was granted. Consumers must ignore fields they do not know (additionalProperties is true by policy).
 */
export interface AccountReinstated {
  /**
   * MAJOR.MINOR of this detail shape. Pin the major in your event pattern: {"prefix": "1."}.
   */
  schemaVersion: string;
  /**
   * De-duplication key. Deterministic (UUIDv5 of detail type, account, case, decision time): every delivery and every retry of one decision carries the same id.
   */
  eventId: string;
  /**
   * The customer account the decision is about.
   */
  accountId: string;
  /**
   * The distill-guard case behind the decision.
   */
  caseId: string;
  /**
   * "auto" when the pipeline decided, otherwise the reviewer's identity.
   */
  decidedBy: string;
  /**
   * Signal names behind the decision, e.g. "synchronized-activity", "shared-templates".
   */
  reasons: string[];
  /**
   * Suspicion score at decision time (0..1).
   */
  score: number;
  /**
   * Cluster of linked accounts this account belongs to, null when none.
   */
  clusterId: string | null;
  /**
   * Other accounts linked to this one (same cluster).
   */
  relatedAccountIds: string[];
  /**
   * Time of the decision, ISO-8601 UTC.
   */
  decidedAt: string;
  /**
   * Time of the decision, epoch milliseconds (same instant as decidedAt). The ordering key: per accountId, apply an event only if its decidedAtMs is newer than the last one applied (delivery is unordered).
   */
  decidedAtMs: number;
  /**
   * Human-readable evidence per signal.
   */
  reasonDetails?: {
    signal: string;
    value?: number;
    baseline?: number;
    text?: string;
    [k: string]: unknown;
  }[];
  /**
   * True when the decision was recorded in shadow mode and not enforced.
   */
  shadow?: boolean;
  /**
   * Why: "suspension-expired", "overturned-on-review", "appeal-granted" or "manual" (open list).
   */
  reinstatedReason?: string;
  /**
   * The end the suspension had, if any.
   */
  previousSuspendedUntil?: string | null;
  [k: string]: unknown;
}
