/**
 * The review queue as reviewers work it: sort by age, score, deadline or cluster size; filter by reason, scorer
 * decision, cluster and state; find by account or case id; pick the next case nobody else holds. Plain TypeScript,
 * shared by the CLI and the console through ops/queue-query.ts.
 */
export const QUEUE_SORTS = ['age', 'score', 'deadline', 'cluster'] as const;
export type QueueSort = (typeof QUEUE_SORTS)[number];

/** The fields the view needs from a queue entry. */
export interface ViewEntry {
  caseId: string;
  accountId: string;
  state: string;
  decision: string;
  score: number;
  reasons: string[];
  createdAt: string;
  reviewDeadline?: string;
  clusterId: string | null;
  clusterSize: number;
  claim?: { by: string; until: string } | null;
}

export interface QueueFilter {
  /** Cases with this reason (signal) among their reasons. */
  reason?: string;
  /** The scorer's decision: review or suspend. */
  decision?: string;
  /** Cases of this cluster id. */
  cluster?: string;
  /** Case states to keep (review, overdue, ...). */
  states?: string[];
  /** A substring of the account id or the case id (case-insensitive). */
  find?: string;
}

export function parseSort(v: unknown): QueueSort {
  if (v === undefined || v === null || v === '') return 'age';
  if (!(QUEUE_SORTS as readonly unknown[]).includes(v)) throw new Error(`sort must be one of ${QUEUE_SORTS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as QueueSort;
}

export function filterQueue<T extends ViewEntry>(entries: T[], f: QueueFilter): T[] {
  const find = f.find?.trim().toLowerCase();
  return entries.filter(
    (e) =>
      (!f.reason || e.reasons.includes(f.reason)) &&
      (!f.decision || e.decision === f.decision) &&
      (!f.cluster || e.clusterId === f.cluster) &&
      (!f.states?.length || f.states.includes(e.state)) &&
      (!find || e.accountId.toLowerCase().includes(find) || e.caseId.toLowerCase().includes(find)),
  );
}

const deadlineOf = (e: ViewEntry) => (e.reviewDeadline ? Date.parse(e.reviewDeadline) : Infinity);

/** age: oldest first; score: highest first; deadline: soonest first; cluster: largest first. Ties: oldest first. */
export function sortQueue<T extends ViewEntry>(entries: T[], sort: QueueSort): T[] {
  const byAge = (a: T, b: T) => a.createdAt.localeCompare(b.createdAt) || a.caseId.localeCompare(b.caseId);
  const cmp: Record<QueueSort, (a: T, b: T) => number> = {
    age: byAge,
    score: (a, b) => b.score - a.score || byAge(a, b),
    deadline: (a, b) => deadlineOf(a) - deadlineOf(b) || byAge(a, b),
    cluster: (a, b) => b.clusterSize - a.clusterSize || byAge(a, b),
  };
  return [...entries].sort(cmp[sort]);
}

/** Whether someone other than `me` holds a live claim on the entry. */
export function takenByOther(e: ViewEntry, me: string, nowMs: number): boolean {
  return !!e.claim && e.claim.by !== me && Date.parse(e.claim.until) > nowMs;
}

/**
 * The next case to work after `afterCaseId` in the listed order: the first one under review that nobody else holds
 * (wrapping around to the start); undefined when none is left.
 */
export function nextCase<T extends ViewEntry>(entries: T[], me: string, nowMs: number, afterCaseId?: string): T | undefined {
  const start = afterCaseId ? entries.findIndex((e) => e.caseId === afterCaseId) + 1 : 0;
  const ordered = [...entries.slice(start), ...entries.slice(0, start)];
  return ordered.find((e) => e.state === 'review' && e.caseId !== afterCaseId && !takenByOther(e, me, nowMs));
}
