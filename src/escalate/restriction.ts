/**
 * The `restrict` step between review and suspend (plain TypeScript, no AWS imports): the account keeps working, but
 * its API keys move to a throttled usage plan and its status carries a `stepUp` flag the authorizer exposes, so the
 * provider's own sign-up or verification flow can ask for more. It ends by itself at `restrictedUntil`, or on
 * reinstatement. This module holds the duration rule and the policy that recommends the step.
 */

/** The length of a restriction an operator applies by hand when they do not say. */
export const DEFAULT_RESTRICT_HOURS = 24;

/** Longest restriction an operator may ask for by hand (the workflow's default is `restrictDuration`). */
export const MAX_RESTRICT_HOURS = 30 * 24;

/** The end of a restriction that starts at `nowMs` and lasts `durationMs` (whole, positive, capped). */
export function planRestriction(nowMs: number, durationMs: number): { restrictedUntil: number; durationMs: number } {
  if (!Number.isFinite(durationMs) || durationMs <= 0)
    throw new Error(`restriction duration must be a positive number of ms, got ${JSON.stringify(durationMs)}`);
  const d = Math.min(Math.round(durationMs), MAX_RESTRICT_HOURS * 3_600_000);
  return { restrictedUntil: nowMs + d, durationMs: d };
}

/** Parse an operator's `--duration-hours`: a number in (0, MAX_RESTRICT_HOURS]. */
export function parseRestrictHours(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_RESTRICT_HOURS)
    throw new Error(`duration hours must be a number in (0, ${MAX_RESTRICT_HOURS}], got ${JSON.stringify(value)}`);
  return n;
}

/** The parts of a status item that say whether a restriction is in force (the authorizer reads them). */
export interface RestrictionStatus {
  status?: unknown;
  stepUp?: unknown;
  restrictedUntil?: unknown;
}

/** True while the account must step up: `stepUp` is set and the restriction has not ended at `nowMs`. */
export function stepUpRequired(item: RestrictionStatus | undefined, nowMs: number): boolean {
  if (!item || item.stepUp !== true) return false;
  const until = typeof item.restrictedUntil === 'number' ? item.restrictedUntil : Number(item.restrictedUntil);
  // No end recorded: in force until lifted (the expirer or a reinstatement removes the flag).
  if (item.restrictedUntil === undefined || item.restrictedUntil === null) return true;
  return Number.isFinite(until) && until > nowMs;
}

/** What the detection policy sees of an account when it recommends a step for a `review` decision. */
export interface StepEvidence {
  decision: 'allow' | 'monitor' | 'review' | 'suspend';
  /** Strong coordination (shared timing, content or infrastructure) with other accounts. */
  coordinated: boolean;
  /** Evidence families at full strength (`extraction`, `evasion`, `fleet`, `pivot`, ...). */
  families: readonly string[];
  /** Account age at scoring time, ms; null when the provider does not report creation times. */
  accountAgeMs: number | null;
}

/** Accounts older than this are established: the policy never restricts them automatically. */
export const ESTABLISHED_ACCOUNT_MS = 90 * 86_400_000;

/**
 * The step for a `review` decision: `restrict` (restrict plus review) when the account is coordinated with others
 * AND shows extraction intent, and is not an established account; otherwise plain review. Coordination without
 * extraction intent, or an established account, gets at most a review here; what reaches `review` or `suspend`
 * is unchanged (the detection thresholds decide that).
 */
export function recommendStep(e: StepEvidence, establishedMs = ESTABLISHED_ACCOUNT_MS): 'restrict' | undefined {
  if (e.decision !== 'review') return undefined;
  if (!e.coordinated || !e.families.includes('extraction')) return undefined;
  if (e.accountAgeMs !== null && e.accountAgeMs >= establishedMs) return undefined;
  return 'restrict';
}
