/**
 * Types for the formats in docs/contract.md. These are what other systems rely on: add fields freely,
 * never rename, drop or retype one.
 */

/** §1 Access-log record, exactly as API Gateway writes it (every value a string; `-` when missing). */
export interface AccessLogRecord {
  requestId: string;
  requestTimeEpoch: string;
  requestTime: string;
  accountId: string;
  apiKeyId: string;
  sourceIp: string;
  userAgent: string;
  httpMethod: string;
  path: string;
  status: string;
  responseLength: string;
  integrationLatency: string;
  accountCreatedAt: string;
}

/** The keys of §1, in order. The stack's access-log format is generated from this list. */
export const ACCESS_LOG_FIELDS: ReadonlyArray<[keyof AccessLogRecord, string]> = [
  ['requestId', '$context.requestId'],
  ['requestTimeEpoch', '$context.requestTimeEpoch'],
  ['requestTime', '$context.requestTime'],
  ['accountId', '$context.authorizer.principalId'],
  ['apiKeyId', '$context.identity.apiKeyId'],
  ['sourceIp', '$context.identity.sourceIp'],
  ['userAgent', '$context.identity.userAgent'],
  ['httpMethod', '$context.httpMethod'],
  ['path', '$context.path'],
  ['status', '$context.status'],
  ['responseLength', '$context.responseLength'],
  ['integrationLatency', '$context.integrationLatency'],
  ['accountCreatedAt', '$context.authorizer.accountCreatedAt'],
];

export const PROMPT_CLASSES = ['chat', 'coding', 'agentic', 'vision', 'cot_elicitation', 'rewrite', 'other'] as const;
export type PromptClass = (typeof PROMPT_CLASSES)[number];

/** §2 Usage event from the model-serving tier. */
export interface UsageEvent {
  type: 'usage';
  requestId: string;
  accountId: string;
  timestamp: number;
  model: string;
  promptClass: PromptClass;
  templateId: string;
  inputTokens: number;
  outputTokens: number;
}

export type Decision = 'allow' | 'monitor' | 'review' | 'suspend';

/** §3 Replay report. */
export interface ReplayReport {
  accounts: ReplayAccount[];
  clusters: ReplayCluster[];
  /** Added field: input accounting (lines read, skipped as malformed, by reason). */
  input?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface ReplayAccount {
  accountId: string;
  decision: Decision;
  score: number;
  reasons: string[];
  clusterId: string | null;
  firstFlaggedAt: number | null;
  [extra: string]: unknown;
}

export interface ReplayCluster {
  clusterId: string;
  accountIds: string[];
  reasons: string[];
  [extra: string]: unknown;
}

/** §4 Ban events. */
export const EVENT_SOURCE = 'distill-guard';
export const DETAIL_TYPES = ['Account Flagged', 'Account Restricted', 'Account Suspended', 'Account Reinstated'] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

export interface BanEventDetail {
  schemaVersion: string;
  eventId: string;
  accountId: string;
  caseId: string;
  /** `auto` or the reviewer's identity. */
  decidedBy: string;
  reasons: string[];
  score: number;
  clusterId: string | null;
  relatedAccountIds: string[];
  /** ISO-8601 time of the decision. */
  decidedAt: string;
  [extra: string]: unknown;
}
