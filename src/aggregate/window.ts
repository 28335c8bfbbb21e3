/**
 * The per-account, per-hour feature window: the unit the aggregator writes to DynamoDB (one item per
 * account and hour, `pk = A#<accountId>`, `sk = W#<windowStart>`), and the unit detection reads.
 *
 * Every field is commutative and idempotent to merge (sums, set unions, min/max), so that windows built from
 * shards processed in any order, or from replay in one process, are identical.
 */
import { dataRecord } from '../shared/data-record';

export { dataRecord };

export const WINDOW_MS = 3_600_000;

export interface AccountWindow {
  accountId: string;
  /** Start of the hour, ms since epoch. */
  windowStart: number;
  /** Requests seen in the access logs. */
  n: number;
  status4xx: number;
  status5xx: number;
  status429: number;
  /** Sum of responseLength over requests where it was known, and how many those were. */
  respBytes: number;
  respBytesN: number;
  /** Sum of integrationLatency (ms) over requests where it was known, and how many those were. */
  latencyMs: number;
  latencyN: number;
  /** Requests per minute of the hour (key 0..59); absent keys are 0. */
  minutes: Record<number, number>;
  /** Requests per model id (the path segment after /models/). */
  models: Record<string, number>;
  /** Pseudonymous hashes of source IPs (see src/ingest: truncated SHA-256, not reversible by lookup table only). */
  ips: string[];
  /** /24 (IPv4) or /48 (IPv6) prefixes. */
  subnets: string[];
  /** User agents (sanitised, truncated). */
  userAgents: string[];
  /** API key ids (`-` dropped). */
  apiKeys: string[];
  /** From the authorizer; null when unknown. */
  accountCreatedAt: number | null;
  /** Earliest and latest request time in the window, ms. */
  firstTs: number;
  lastTs: number;
  // ---- from usage events (docs/contract.md, "Usage event"); zero/empty when the serving tier sends none ----
  usageN: number;
  inputTokens: number;
  outputTokens: number;
  promptClasses: Record<string, number>;
  templates: string[];
}

/** First time each model was seen anywhere in the traffic (population level), ms. */
export type ModelFirstSeen = Record<string, number>;

// ---------------------------------------------------------------------------------------------------------
// Additions by the aggregate stage (kept backwards compatible: only new exports and optional fields).
// ---------------------------------------------------------------------------------------------------------

/**
 * Bounds on the set-valued and keyed fields of one window. They keep a window's DynamoDB item far below the
 * 400 KB item limit (and its write cost bounded) whatever an attacker sends. When a set is full, further
 * distinct values are not stored; `overflow` counts them (an upper bound on the distinct values missed, since a
 * value dropped in two batches is counted twice).
 */
export const WINDOW_LIMITS = {
  ips: 1000,
  subnets: 500,
  userAgents: 50,
  apiKeys: 50,
  templates: 500,
  /** Distinct model ids per window; further models are counted under OTHER_MODEL. */
  models: 50,
} as const;

export type SetField = 'ips' | 'subnets' | 'userAgents' | 'apiKeys' | 'templates';
export const SET_FIELDS: readonly SetField[] = ['ips', 'subnets', 'userAgents', 'apiKeys', 'templates'];

/** Model bucket for requests beyond WINDOW_LIMITS.models distinct models in a window. */
export const OTHER_MODEL = '~other';

/** Optional overflow counters (see WINDOW_LIMITS). Absent or 0 means nothing was dropped. */
export type WindowOverflow = Partial<Record<SetField, number>>;

export interface AccountWindowExtras {
  overflow?: WindowOverflow;
}

/** Start of the hour containing `ts` (ms). */
export function windowStartOf(ts: number): number {
  return ts - (((ts % WINDOW_MS) + WINDOW_MS) % WINDOW_MS);
}

export function emptyWindow(accountId: string, windowStart: number): AccountWindow & AccountWindowExtras {
  return {
    accountId,
    windowStart,
    n: 0,
    status4xx: 0,
    status5xx: 0,
    status429: 0,
    respBytes: 0,
    respBytesN: 0,
    latencyMs: 0,
    latencyN: 0,
    minutes: dataRecord(),
    models: dataRecord(),
    ips: [],
    subnets: [],
    userAgents: [],
    apiKeys: [],
    accountCreatedAt: null,
    firstTs: 0,
    lastTs: 0,
    usageN: 0,
    inputTokens: 0,
    outputTokens: 0,
    promptClasses: dataRecord(),
    templates: [],
  };
}
