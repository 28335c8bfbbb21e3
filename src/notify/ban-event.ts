/**
 * Ban events (docs/contract.md, "Ban events"): building, identity and the transactional-outbox item shape.
 *
 * Plain TypeScript, no AWS imports: the escalation workflow (H5) calls `buildBanEvent` and writes
 * `toOutboxItem(event)` in the SAME DynamoDB transaction as the decision; the outbox publisher
 * (lambdas/notify/publisher.ts) turns the item back into a PutEvents entry with `outboxItemToEntry`.
 */
import { createHash } from 'node:crypto';
import { BAN_EVENT_DETAIL_FIELDS, BanEventDetail, DETAIL_TYPES, DetailType, EVENT_SOURCE } from '../shared/contract';

export { DETAIL_TYPES, EVENT_SOURCE };
export type { BanEventDetail, DetailType };

/**
 * Version of the detail shape, `MAJOR.MINOR`. MINOR moves on a compatible change (a new optional field, a new
 * enum value documented as open); MAJOR moves on a breaking change, and then both majors are published side by
 * side during a transition (docs/events.md, "Versioning policy"). Consumers pin a major with the pattern
 * `"schemaVersion": [{"prefix": "1."}]`.
 */
export const SCHEMA_VERSION = '1.1';
export const SCHEMA_MAJOR = SCHEMA_VERSION.split('.')[0];

/** Partition-key prefix and sort key of outbox items in the control table, and its pending GSI key (src/shared/tables.ts). */
import { OUTBOX_PENDING_GSI_PK, OUTBOX_PK_PREFIX, OUTBOX_SK } from '../shared/tables';
export { OUTBOX_PENDING_GSI_PK, OUTBOX_PK_PREFIX, OUTBOX_SK };

/** Namespace UUID of distill-guard event ids (UUIDv5, RFC 9562, section 5.5). Never change it: ids would change. */
export const EVENT_ID_NAMESPACE = '6f1c3c4e-5b1a-4a57-9d0e-2f8f3b1d7c11';

/** One reason behind a decision, in words a reviewer and a consuming team can read. */
export interface ReasonDetail {
  signal: string;
  value?: number;
  baseline?: number;
  text?: string;
  [extra: string]: unknown;
}

/** What the caller supplies; `schemaVersion` and `eventId` are filled in. */
export interface BanEventFields {
  accountId: string;
  caseId: string;
  /** `auto` or the reviewer's identity. */
  decidedBy: string;
  reasons: string[];
  score: number;
  clusterId?: string | null;
  relatedAccountIds?: string[];
  /**
   * Time of the decision: epoch ms, ISO-8601 string or Date. Part of the event id, so pass the PERSISTED decision
   * time (from the case / workflow state), never `Date.now()` of a retried step.
   */
  decidedAt: number | string | Date;
  /** Added fields (any detail type). */
  reasonDetails?: ReasonDetail[];
  /** `Account Flagged`: what the scorer decided (`review` or `suspend`). */
  decision?: string;
  /** `Account Suspended`: end of the suspension (epoch ms / ISO), null or absent = indefinite. */
  suspendedUntil?: number | string | Date | null;
  /** `Account Suspended`: the account's offence count including this one (1 = first). */
  offence?: number;
  /** `Account Restricted`: end of the restriction (epoch ms / ISO). */
  restrictedUntil?: number | string | Date;
  /** `Account Restricted`: the account must step up (the authorizer's `stepUp`). */
  stepUp?: boolean;
  /** `Account Reinstated`: why, e.g. `suspension-expired`, `overturned-on-review`, `appeal-granted`, `manual`. */
  reinstatedReason?: string;
  /** Shadow mode: the decision was recorded but not enforced. */
  shadow?: boolean;
  [extra: string]: unknown;
}

/** A ban event ready for the bus. `detail.eventId === eventId`. */
export interface BanEvent {
  eventId: string;
  detailType: DetailType;
  source: typeof EVENT_SOURCE;
  detail: BanEventDetail;
}

/** The outbox item H5 writes (in its decision transaction) to the control table. */
export interface OutboxItem {
  pk: string;
  sk: string;
  eventId: string;
  detailType: DetailType;
  /** The detail, as the JSON string that goes on the bus unchanged. */
  detail: string;
  /** Epoch ms the item was written. */
  createdAt: number;
  /** Sparse GSI `byState` entry while unpublished: `OUTBOX#pending` / `<createdAt ISO>#<eventId>`. */
  gsi1pk?: string;
  gsi1sk?: string;
  /** Set by the publisher when the event is on the bus (epoch ms). */
  publishedAt?: number;
  /** TTL (epoch seconds), set only once published: a pending item never expires. */
  expiresAt?: number;
}

/** Minimal PutEvents entry shape (structurally the SDK's PutEventsRequestEntry). */
export interface PutEventsEntryLike {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
  Resources?: string[];
}

export function isDetailType(value: unknown): value is DetailType {
  return typeof value === 'string' && (DETAIL_TYPES as readonly string[]).includes(value);
}

/** Normalise a time to ISO-8601 UTC with milliseconds. */
export function toIsoTime(value: number | string | Date, what = 'time'): string {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`${what} must be epoch ms, an iso-8601 string or a date, got ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** UUIDv5 (SHA-1, name-based) of `name` in `namespace` (RFC 9562, section 5.5). */
export function uuidV5(name: string, namespace: string = EVENT_ID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`namespace must be a uuid, got ${JSON.stringify(namespace)}`);
  const hash = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50; // version 5
  b[8] = (b[8] & 0x3f) | 0x80; // RFC variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The deterministic event id: the same decision (detail type, account, case, decision time) always gets the same
 * id, so retries of the workflow step, the stream publisher, the sweeper and archive replays all carry the same id
 * and consumers de-duplicate on it. The schema version is deliberately NOT part of it: during a major-version
 * transition both versions of one decision carry the same id (docs/events.md, "Versioning policy"). Never change
 * this formula: ids already delivered would no longer match.
 */
export function banEventId(detailType: DetailType, accountId: string, caseId: string, decidedAt: number | string | Date): string {
  const iso = toIsoTime(decidedAt, 'decidedAt');
  return uuidV5(['distill-guard', detailType, accountId, caseId, iso].join('\n'));
}

function requireString(fields: Record<string, unknown>, key: string): string {
  const v = fields[key];
  if (typeof v !== 'string' || v.length === 0) throw new Error(`ban event field ${key} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Build a ban event. Throws (lowercase message showing the value) when a contract field is missing or of the
 * wrong type; validate against the JSON Schema with `validateBanEventDetail` (src/notify/schemas.ts).
 */
export function buildBanEvent(detailType: DetailType, fields: BanEventFields): BanEvent {
  if (!isDetailType(detailType)) throw new Error(`detail type must be one of ${DETAIL_TYPES.join(', ')}, got ${JSON.stringify(detailType)}`);
  const f = fields as Record<string, unknown>;
  const accountId = requireString(f, 'accountId');
  const caseId = requireString(f, 'caseId');
  const decidedBy = requireString(f, 'decidedBy');
  if (!Array.isArray(fields.reasons) || fields.reasons.some((r) => typeof r !== 'string')) {
    throw new Error(`ban event field reasons must be an array of strings, got ${JSON.stringify(fields.reasons)}`);
  }
  if (typeof fields.score !== 'number' || !Number.isFinite(fields.score)) {
    throw new Error(`ban event field score must be a finite number, got ${JSON.stringify(fields.score)}`);
  }
  const clusterId = fields.clusterId ?? null;
  if (clusterId !== null && typeof clusterId !== 'string')
    throw new Error(`ban event field clusterId must be a string or null, got ${JSON.stringify(clusterId)}`);
  const related = fields.relatedAccountIds ?? [];
  if (!Array.isArray(related) || related.some((r) => typeof r !== 'string')) {
    throw new Error(`ban event field relatedAccountIds must be an array of strings, got ${JSON.stringify(related)}`);
  }
  const decidedAt = toIsoTime(fields.decidedAt, 'decidedAt');
  const eventId = banEventId(detailType, accountId, caseId, decidedAt);

  // Added fields pass through (minus undefined); normalised where they are times.
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined && !CORE_KEYS.has(k)) extra[k] = v;
  }
  if ('suspendedUntil' in extra)
    extra.suspendedUntil = extra.suspendedUntil === null ? null : toIsoTime(extra.suspendedUntil as number | string | Date, 'suspendedUntil');
  if (detailType === 'Account Suspended' && !('suspendedUntil' in extra)) extra.suspendedUntil = null;
  if ('restrictedUntil' in extra) extra.restrictedUntil = toIsoTime(extra.restrictedUntil as number | string | Date, 'restrictedUntil');
  if (detailType === 'Account Restricted' && !('restrictedUntil' in extra))
    throw new Error('ban event field restrictedUntil is required for Account Restricted, got undefined');

  const detail: BanEventDetail = {
    schemaVersion: SCHEMA_VERSION,
    eventId,
    accountId,
    caseId,
    decidedBy,
    reasons: [...fields.reasons],
    score: fields.score,
    clusterId,
    relatedAccountIds: [...related],
    decidedAt,
    decidedAtMs: Date.parse(decidedAt),
    ...extra,
  };
  return { eventId, detailType, source: EVENT_SOURCE, detail };
}

/** The fields buildBanEvent sets itself; any other field a caller passes is an added one and passes through. */
const CORE_KEYS = new Set<string>([...BAN_EVENT_DETAIL_FIELDS, 'decidedAtMs']);

/**
 * The outbox item for `event`. Put it with `attribute_not_exists(pk)` in the decision's TransactWriteItems so a
 * retried step neither duplicates nor overwrites it (the event id is deterministic, so the key is too).
 */
export function toOutboxItem(event: BanEvent, now: number = Date.now()): OutboxItem {
  return {
    pk: `${OUTBOX_PK_PREFIX}${event.eventId}`,
    sk: OUTBOX_SK,
    eventId: event.eventId,
    detailType: event.detailType,
    detail: JSON.stringify(event.detail),
    createdAt: now,
    gsi1pk: OUTBOX_PENDING_GSI_PK,
    gsi1sk: `${new Date(now).toISOString()}#${event.eventId}`,
  };
}

/** Parse an outbox item (as read from the table or a stream NewImage, already unmarshalled). Throws on a poison item. */
export function fromOutboxItem(item: Record<string, unknown>): BanEvent {
  const pk = item.pk;
  if (typeof pk !== 'string' || !pk.startsWith(OUTBOX_PK_PREFIX))
    throw new Error(`outbox item pk must start with ${OUTBOX_PK_PREFIX}, got ${JSON.stringify(pk)}`);
  const detailType = item.detailType;
  if (!isDetailType(detailType)) throw new Error(`outbox item ${pk} has an unknown detailType ${JSON.stringify(detailType)}`);
  if (typeof item.detail !== 'string') throw new Error(`outbox item ${pk} detail must be a json string, got ${typeof item.detail}`);
  let detail: BanEventDetail;
  try {
    detail = JSON.parse(item.detail) as BanEventDetail;
  } catch (err) {
    throw new Error(`outbox item ${pk} detail is not valid json: ${(err as Error).message}`);
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) throw new Error(`outbox item ${pk} detail must be a json object`);
  const eventId = pk.slice(OUTBOX_PK_PREFIX.length);
  if (detail.eventId !== eventId) throw new Error(`outbox item ${pk} detail.eventId ${JSON.stringify(detail.eventId)} does not match its key`);
  return { eventId, detailType, source: EVENT_SOURCE, detail };
}

/** The PutEvents entry for `event` on `eventBusName`. The detail string is the outbox's, byte for byte when given. */
export function toPutEventsEntry(event: BanEvent, eventBusName: string, detailJson?: string): PutEventsEntryLike {
  return {
    Source: event.source,
    DetailType: event.detailType,
    Detail: detailJson ?? JSON.stringify(event.detail),
    EventBusName: eventBusName,
  };
}

/** The case fields every ban event about an account repeats (reasons, score, cluster), from its case if known. */
export interface CaseSummary {
  reasons?: string[];
  score?: number;
  clusterId?: string | null;
  relatedAccountIds?: string[];
}

/**
 * An `Account Reinstated` event: one builder for every way a suspension or a restriction ends (expiry, manual
 * reinstatement, a rejected review), so they all carry the same case fields.
 */
export function reinstatedEvent(
  p: { accountId: string; caseId: string; actor: string; reason: string; decidedAt: number | string; reinstatedReason: string },
  c: CaseSummary | undefined,
  extra: Record<string, unknown> = {},
): BanEvent {
  return buildBanEvent('Account Reinstated', {
    accountId: p.accountId,
    caseId: p.caseId,
    decidedBy: p.actor,
    reasons: c?.reasons ?? [],
    score: c?.score ?? 0,
    clusterId: c?.clusterId ?? null,
    relatedAccountIds: c?.relatedAccountIds ?? [],
    decidedAt: p.decidedAt,
    reinstatedReason: p.reinstatedReason,
    reason: p.reason,
    ...extra,
  } as BanEventFields);
}
