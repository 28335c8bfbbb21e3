/**
 * The per-account, per-hour feature window: the unit the aggregator writes to DynamoDB (one item per
 * account and hour, `pk = A#<accountId>`, `sk = W#<windowStart>`), and the unit detection reads.
 *
 * Every field is commutative and idempotent to merge (sums, set unions, min/max), so that windows built from
 * shards processed in any order, or from replay in one process, are identical.
 */
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
  // ---- from usage events (§2); zero/empty when the serving tier sends none ----
  usageN: number;
  inputTokens: number;
  outputTokens: number;
  promptClasses: Record<string, number>;
  templates: string[];
}

/** First time each model was seen anywhere in the traffic (population level), ms. */
export type ModelFirstSeen = Record<string, number>;
