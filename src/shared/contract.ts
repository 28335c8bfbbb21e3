/**
 * The public formats of docs/contract.md under the names the code uses. The types are generated from
 * schemas/*.json (src/contract/types.generated.ts, `npm run gen:types`), so a field is declared once, in its
 * schema. This module narrows them only where the code is deliberately stricter than the schema, and holds the
 * runtime lists the code needs. Formats grow: add fields, never rename, drop or retype one.
 */
import type * as Schema from '../contract/types.generated';
import type { BanEventMessage } from '../contract/index';

/**
 * A schema type's declared fields, without the `[k: string]: unknown` that `additionalProperties` adds. Stricter
 * for records the code writes itself: a misspelt field is a type error, and `keyof` names exactly the fields.
 */
type Declared<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/** Access-log record, exactly as API Gateway writes it (docs/contract.md, "Access-log record"). */
export type AccessLogRecord = Declared<Schema.AccessLogRecord>;

/** The access-log keys, in order. The stack's access-log format is generated from this list. */
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

/** The prompt classes ingest knows, each one of the schema's enum (a class it does not know is read as `other`). */
export const PROMPT_CLASSES = ['chat', 'coding', 'agentic', 'vision', 'cot_elicitation', 'rewrite', 'other'] as const satisfies ReadonlyArray<
  Schema.UsageEvent['promptClass']
>;
export type PromptClass = (typeof PROMPT_CLASSES)[number];

/** Usage event from the model-serving tier (docs/contract.md, "Usage event"). */
export type UsageEvent = Declared<Schema.UsageEvent>;

/**
 * The decisions detection makes (src/detect/score.ts). The replay report's schema also lists `restrict`, which
 * detection and the replay never produce: narrower, so code that handles a decision need not handle it.
 */
export type Decision = Exclude<Schema.ReplayAccount['decision'], 'restrict'>;

/** Replay report (docs/contract.md, "Replay command and report"): the replay writes detection decisions only. */
export type ReplayReport = Schema.ReplayReport & { accounts: ReplayAccount[] };
export type ReplayAccount = Schema.ReplayAccount & { decision: Decision };
export type ReplayCluster = Schema.ReplayCluster;

/** Ban events (docs/contract.md, "Ban events"). */
export const EVENT_SOURCE = 'distill-guard';
export const DETAIL_TYPES = ['Account Flagged', 'Account Restricted', 'Account Suspended', 'Account Reinstated'] as const satisfies ReadonlyArray<
  BanEventMessage['detail-type']
>;
export type DetailType = (typeof DETAIL_TYPES)[number];

type AnyDetail =
  Declared<Schema.AccountFlagged> | Declared<Schema.AccountRestricted> | Declared<Schema.AccountSuspended> | Declared<Schema.AccountReinstated>;
/** The fields every ban event detail has; each detail type adds its own (kept by the index signature). */
export type BanEventDetail = Pick<AnyDetail, keyof AnyDetail> & { [extra: string]: unknown };

/** The fields docs/contract.md names for every ban event detail; the doc and buildBanEvent both read this list. */
export const BAN_EVENT_DETAIL_FIELDS = [
  'schemaVersion',
  'eventId',
  'accountId',
  'caseId',
  'decidedBy',
  'reasons',
  'score',
  'clusterId',
  'relatedAccountIds',
  'decidedAt',
] as const satisfies ReadonlyArray<keyof AnyDetail>;
