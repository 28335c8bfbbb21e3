/**
 * Which clusters are confirmed, and so may be shared: a reviewer approved the cluster case, or its members'
 * suspensions were applied and not reversed (no reinstatement). A cluster that was only flagged, or whose
 * decision was rejected, stays at home.
 */
export interface ClusterOutcome {
  clusterId: string;
  /** The cluster case decision, when a reviewer decided it. */
  approved?: boolean;
  /** Members whose suspension was applied, and of those, reinstated since. */
  suspended: number;
  reinstated: number;
}

export function isConfirmed(c: ClusterOutcome): boolean {
  if (c.approved === false) return false;
  if (c.approved === true) return true;
  return c.suspended >= 2 && c.reinstated === 0;
}

/** Local replay: a cluster whose decision as a whole was `suspend` (an automatic suspension nobody reversed). */
export function confirmedInReport(report: { clusters: { clusterId: string; clusterDecision: string }[] }, only?: Set<string>): string[] {
  return report.clusters.filter((c) => (only ? only.has(c.clusterId) : c.clusterDecision === 'suspend')).map((c) => c.clusterId);
}
