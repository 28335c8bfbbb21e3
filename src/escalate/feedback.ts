/**
 * Reviewer feedback as figures: every approval confirms the signals a case rests on, every rejection or manual
 * reinstatement overturns them. Counted per signal and per reason combination, so ops and detection engineers see
 * which signal sends them customers. Plain TypeScript: the keys, the counter names and the rates.
 */
import { FEEDBACK_GSI_PK, PK_PREFIX } from './model';

/** What a reviewer (or an operator undoing a suspension) said about a case. */
export type FeedbackKind = 'approved' | 'rejected' | 'reinstated';

/** Counter attributes on a feedback item. A reinstatement counts against the review it undid, or the auto-suspension. */
export const FEEDBACK_COUNTERS = ['approved', 'rejected', 'reinstatedReviewed', 'reinstatedAuto'] as const;
export type FeedbackCounter = (typeof FEEDBACK_COUNTERS)[number];

/** Reasons that are not detection signals (an operator's manual case) are not counted. */
const NOT_SIGNALS = new Set(['manual', 'reopened']);
const SIGNAL_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The distinct, countable signals of a case's reasons, sorted. */
export function feedbackSignals(reasons: unknown): string[] {
  if (!Array.isArray(reasons)) return [];
  return [...new Set(reasons.filter((r): r is string => typeof r === 'string' && SIGNAL_RE.test(r) && !NOT_SIGNALS.has(r)))].sort();
}

export const feedbackKeys = {
  signal: (name: string) => ({ pk: `${PK_PREFIX.feedback}signal#${name}`, sk: 'COUNTS' }),
  combo: (signals: string[]) => ({ pk: `${PK_PREFIX.feedback}combo#${signals.join('+')}`, sk: 'COUNTS' }),
  /** One marker per case and kind: a retried step or a second call counts once. */
  marker: (caseId: string, kind: FeedbackKind) => ({ pk: `${PK_PREFIX.feedback}case#${caseId}`, sk: kind }),
  gsi: (scope: 'signal' | 'combo', name: string) => ({ gsi1pk: FEEDBACK_GSI_PK, gsi1sk: `${scope}#${name}` }),
};

export interface SignalFeedback {
  scope: 'signal' | 'combo';
  /** A signal name, or a combination `a+b` (sorted). */
  name: string;
  approved: number;
  rejected: number;
  reinstatedReviewed: number;
  reinstatedAuto: number;
  /** Approvals not undone later. */
  confirmed: number;
  /** Rejections plus reinstatements (of reviewed or automatic suspensions). */
  overturned: number;
  /** overturned / (confirmed + overturned); null with no label yet. */
  overturnRate: number | null;
  updatedAt?: string;
}

/** The figures of one stored counter item. */
export function summarizeFeedback(item: Record<string, unknown>): SignalFeedback {
  const n = (k: FeedbackCounter) => (typeof item[k] === 'number' ? (item[k] as number) : Number(item[k] ?? 0) || 0);
  const [scope, ...rest] = String(item.gsi1sk ?? '').split('#');
  const confirmed = Math.max(0, n('approved') - n('reinstatedReviewed'));
  const overturned = n('rejected') + n('reinstatedReviewed') + n('reinstatedAuto');
  return {
    scope: scope === 'combo' ? 'combo' : 'signal',
    name: rest.join('#'),
    approved: n('approved'),
    rejected: n('rejected'),
    reinstatedReviewed: n('reinstatedReviewed'),
    reinstatedAuto: n('reinstatedAuto'),
    confirmed,
    overturned,
    overturnRate: confirmed + overturned > 0 ? overturned / (confirmed + overturned) : null,
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
  };
}

/** Highest overturn rate first (the signals sending reviewers customers), then by volume. */
export function rankFeedback(rows: SignalFeedback[]): SignalFeedback[] {
  return [...rows].sort(
    (a, b) =>
      (b.overturnRate ?? -1) - (a.overturnRate ?? -1) || b.confirmed + b.overturned - (a.confirmed + a.overturned) || a.name.localeCompare(b.name),
  );
}
