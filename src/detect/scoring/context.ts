/**
 * The population's figures, reduced from the parts of scoring (parts.ts) in population order: the output baseline,
 * new-model adoption and the clusters that pivoted, and each cluster's context. What every part needs to decide its
 * own accounts.
 */
import type { DetectionConfig } from '../config';
import { median, sortedNumbers } from '../features';
import type { LinkageResult } from '../linkage';
import { reduceModel, type ClusterPivot, type ModelAdoption, type PivotWindow } from '../pivot';
import type { ClusterContext, PopulationBaselines } from '../score';
import { fleetCompanions, fleetSignups } from './fleet';
import type { MemberPart, ScoringPart } from './parts';

export interface ScoringContext {
  baselines: PopulationBaselines;
  /** Adoption of each watched model, in the windows' order. */
  models: ModelAdoption[];
  /** Clusters that pivoted, by cluster id. */
  pivots: Map<string, ClusterPivot>;
  /** Per cluster id. */
  contexts: Map<string, ClusterContext>;
}

const concat = (parts: readonly ScoringPart[], pick: (p: ScoringPart) => number[]): number[] =>
  parts.length === 1 ? pick(parts[0]) : parts.flatMap(pick);

export function populationBaselines(parts: readonly ScoringPart[]): PopulationBaselines {
  const outputUnit: PopulationBaselines['outputUnit'] = parts.some((p) => p.withUsage) ? 'tokens' : 'bytes';
  const outs = concat(parts, (p) => (outputUnit === 'tokens' ? p.outputTokens : p.responseBytes));
  return { medianOutput: median(outs), outputUnit };
}

/** The parts, in population order, reduced to what every part needs to decide its accounts. */
export function reduceScoring(
  parts: readonly ScoringPart[],
  linkage: Pick<LinkageResult, 'clusters' | 'byAccount'>,
  windows: readonly PivotWindow[],
  now: number,
  config: DetectionConfig,
): ScoringContext {
  const baselines = populationBaselines(parts);
  const pivots = new Map<string, ClusterPivot>();
  const models = windows.map((w, k) =>
    reduceModel(
      w,
      parts.map((p) => p.models[k]),
      config.pivot,
      pivots,
    ),
  );
  return { baselines, models, pivots, contexts: clusterContexts(parts, linkage, pivots, baselines, now, config) };
}

/** Per cluster: aggregate intent and output, its pivot, and whether its members were created together. */
function clusterContexts(
  parts: readonly ScoringPart[],
  linkage: Pick<LinkageResult, 'clusters' | 'byAccount'>,
  pivots: Map<string, ClusterPivot>,
  base: PopulationBaselines,
  now: number,
  config: DetectionConfig,
): Map<string, ClusterContext> {
  const contexts = new Map<string, ClusterContext>();
  if (linkage.clusters.length === 0) return contexts;
  // The null model's population: accounts linked to nobody (a second fleet created the same week must not make
  // the first look ordinary).
  const population = sortedNumbers(concat(parts, (p) => p.unlinkedCreatedAt));
  // Last wins, as a map built from the population in order would.
  const memberOf = new Map<string, MemberPart>();
  for (const p of parts) for (const m of p.members) memberOf.set(m.id, m);
  for (const c of linkage.clusters) {
    let usage = 0;
    let intent = 0;
    let out = 0;
    let outN = 0;
    const members: { id: string; createdAt: number }[] = [];
    const duty = new Map<string, number>();
    let cot = 0;
    for (const id of c.accountIds) {
      const m = memberOf.get(id);
      if (m === undefined) continue;
      cot += m.cotPerDay;
      usage += m.usageN;
      intent += m.cotElicitation;
      if (base.outputUnit === 'tokens') {
        out += m.outputTokens;
        outN += m.usageN;
      } else {
        out += m.respBytes;
        outN += m.respBytesN;
      }
      if (m.createdAt !== null) members.push({ id, createdAt: m.createdAt });
      if (m.duty !== undefined) duty.set(id, m.duty);
    }
    const fleet = fleetSignups(members, population, now, config, duty);
    if (fleet) fleet.companions = fleetCompanions(fleet, c.accountIds, duty, linkage.byAccount, config);
    contexts.set(c.clusterId, {
      cluster: c,
      intentShare: usage > 0 ? intent / usage : null,
      usageEvents: usage,
      meanOutput: outN >= config.thresholds.outputMinRequests ? out / outN : null,
      pivot: pivots.get(c.clusterId),
      cotPerAccountDay: c.accountIds.length ? cot / c.accountIds.length : 0,
      fleet,
    });
  }
  return contexts;
}
