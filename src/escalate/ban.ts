/**
 * Suspension durations that escalate with repeat offences and are capped, after fail2ban's `bantime.increment`
 * (`bantime * factor ^ (offences - 1)`, bounded by `bantime.maxtime`), with offences forgotten after a quiet
 * period (fail2ban's `dbpurgeage`). Plain TypeScript.
 */
export interface BanPolicy {
  /** First suspension, ms. */
  baseMs: number;
  /** Multiplier per repeat offence (fail2ban `bantime.factor` with the default `2^n` formula). */
  factor: number;
  /** Cap, ms (fail2ban `bantime.maxtime`). */
  maxMs: number;
  /** Offences older than this (since the last suspension ended) are forgotten, ms. */
  forgetAfterMs: number;
}

export interface PriorRecord {
  /** Offences so far (0 = never suspended). */
  offences: number;
  /** End of the last suspension, ms (or when it was lifted), if any. */
  lastSuspensionEnd?: number | null;
}

/** The offence number this suspension will be (1 = first), applying the forget rule. */
export function nextOffence(prior: PriorRecord, policy: BanPolicy, nowMs: number): number {
  const prev = Number.isFinite(prior.offences) && prior.offences > 0 ? Math.floor(prior.offences) : 0;
  if (prev > 0 && prior.lastSuspensionEnd && nowMs - prior.lastSuspensionEnd > policy.forgetAfterMs) return 1;
  return prev + 1;
}

/** Duration of suspension number `offence` (1-based), capped. */
export function banDurationMs(offence: number, policy: BanPolicy): number {
  if (!Number.isInteger(offence) || offence < 1) throw new Error(`offence must be an integer >= 1, got ${offence}`);
  if (!(policy.baseMs > 0) || !(policy.maxMs >= policy.baseMs) || !(policy.factor >= 1)) {
    throw new Error(`ban policy must have baseMs > 0, maxMs >= baseMs and factor >= 1, got ${JSON.stringify(policy)}`);
  }
  // Exponent bounded so huge offence counts cannot overflow to Infinity/NaN before the cap applies.
  const d = policy.baseMs * Math.pow(policy.factor, Math.min(offence - 1, 64));
  return Math.min(d, policy.maxMs);
}

/** The suspension to apply now: offence number, duration and end time. */
export function planSuspension(
  prior: PriorRecord,
  policy: BanPolicy,
  nowMs: number,
): { offence: number; durationMs: number; suspendedUntil: number } {
  const offence = nextOffence(prior, policy, nowMs);
  const durationMs = banDurationMs(offence, policy);
  return { offence, durationMs, suspendedUntil: nowMs + durationMs };
}

/** Human form of a duration, e.g. `2d`, `12h`, `90m`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs >= 86_400_000 && abs % 86_400_000 === 0) return `${sign}${abs / 86_400_000}d`;
  if (abs >= 3_600_000) return `${sign}${+(abs / 3_600_000).toFixed(1)}h`;
  if (abs >= 60_000) return `${sign}${Math.round(abs / 60_000)}m`;
  return `${sign}${Math.round(abs / 1000)}s`;
}
