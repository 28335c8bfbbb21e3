/**
 * Sign-up fleets inside a cluster: groups of members created together, far beyond the unlinked population's rate,
 * that run machine-like hours; and the older members that run with them. Measured per cluster when the cluster's
 * context is built (context.ts).
 */
import type { DetectionConfig } from '../config';
import { median } from '../features';
import type { AccountLink } from '../linkage';
import type { FleetSignups } from '../score';

/** log10 of P(X >= k) for X ~ Binomial(n, p), summed in log space (hand-written: a few lines, no dependency). */
export function binomialTailLog10(n: number, k: number, p: number): number {
  if (k <= 0) return 0;
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return 0;
  const lnP = Math.log(p);
  const lnQ = Math.log1p(-p);
  let lnChoose = 0; // ln C(n, i), built up from i = 0
  const terms: number[] = [];
  for (let i = 1; i <= n; i++) {
    lnChoose += Math.log((n - i + 1) / i);
    if (i >= k) terms.push(lnChoose + i * lnP + (n - i) * lnQ);
  }
  const max = Math.max(...terms);
  let sum = 0;
  for (const x of terms) sum += Math.exp(x - max);
  return (max + Math.log(sum)) / Math.LN10;
}

/** Lower-bound index of x in a sorted array. */
function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Groups of members created within `fleetWindowMs` of each other, against the unlinked population created in the
 * same window (the null model: members drawn from the population would mostly fall outside it). Windows are taken
 * densest first and their members removed, so one cluster can hold several fleets (two sign-up waves, two fleets
 * of one operator). A group counts when it has at least `minClusterSize` members, its binomial tail is at most
 * 10^`fleetMaxLog10P`, its members are young, and they run machine-like: at least `minClusterSize` of them observed
 * for `fleetMinHistoryMs`, their median active in at least `fleetMinDutyCycle` of the hours since its first request
 * (`duty`; a class or bootcamp cohort signs up together too, but is active in class hours). A member whose own
 * duty is below `fleetMemberMinDutyCycle` stays out of the group's account list (a person in the window by chance).
 * `companions` are filled by `fleetCompanions`.
 */
export function fleetSignups(
  members: { id: string; createdAt: number }[],
  population: ArrayLike<number>,
  now: number,
  config: DetectionConfig,
  duty: Map<string, number>,
): FleetSignups | null {
  const t = config.thresholds;
  const min = config.linkage.minClusterSize;
  if (members.length < min) return null;
  let rest = [...members].sort((a, b) => a.createdAt - b.createdAt);
  const groups: FleetSignups['groups'] = [];
  while (rest.length >= min) {
    let best = 0;
    let bestAt = 0;
    for (let i = 0, j = 0; j < rest.length; j++) {
      while (rest[j].createdAt - rest[i].createdAt > t.fleetWindowMs) i++;
      if (j - i + 1 > best) {
        best = j - i + 1;
        bestAt = i;
      }
    }
    if (best < min) break;
    const group = rest.slice(bestAt, bestAt + best);
    rest = [...rest.slice(0, bestAt), ...rest.slice(bestAt + best)];
    const start = group[0].createdAt;
    const inPopulation = lowerBound(population, start + t.fleetWindowMs + 1) - lowerBound(population, start);
    // Laplace-smoothed, so that an empty background does not make any pair of sign-ups look impossible.
    const populationShare = (inPopulation + 1) / (population.length + 2);
    const medianAgeMs = Math.max(0, now - group[group.length >> 1].createdAt);
    // The window was chosen after looking: demand a very small binomial tail, not just a high share.
    const log10P = binomialTailLog10(members.length, best, populationShare);
    if (populationShare > t.fleetMaxPopulationShare || medianAgeMs > t.fleetMaxAgeMs || log10P > t.fleetMaxLog10P) continue;
    const observed = group.map((g) => duty.get(g.id)).filter((x): x is number => x !== undefined);
    const dutyCycle = observed.length >= min ? median(observed)! : 0;
    if (dutyCycle < t.fleetMinDutyCycle) continue;
    const machine = group.filter((g) => (duty.get(g.id) ?? 1) >= t.fleetMemberMinDutyCycle);
    groups.push({ accountIds: machine.map((g) => g.id), windowStart: start, populationShare, log10P, medianAgeMs, dutyCycle });
  }
  return groups.length ? { known: members.length, windowMs: t.fleetWindowMs, groups, companions: [] } : null;
}

/**
 * A fleet's companions: older members of its cluster that draw, strongly, on the prompt library most of a fleet
 * group's members draw on, and run at least `fleetMinDutyCycle` of their hours as the machines do (aged or bought
 * accounts added to a fleet). A team's own library beside a fleet in one cluster is another library: no credit.
 */
export function fleetCompanions(
  fleet: FleetSignups,
  clusterIds: readonly string[],
  duty: Map<string, number>,
  links: Map<string, AccountLink>,
  config: DetectionConfig,
): string[] {
  const libraries = new Set<number>();
  for (const g of fleet.groups) {
    const count = new Map<number, number>();
    for (const id of g.accountIds) {
      const lib = links.get(id)?.libraryGroup;
      if (lib !== undefined) count.set(lib, (count.get(lib) ?? 0) + 1);
    }
    for (const [lib, n] of count) if (2 * n >= g.accountIds.length) libraries.add(lib);
  }
  const inGroup = new Set(fleet.groups.flatMap((g) => g.accountIds));
  return clusterIds.filter((id) => {
    const link = links.get(id);
    if (!link || inGroup.has(id) || link.libraryGroup === undefined || !libraries.has(link.libraryGroup)) return false;
    return link.libraryScore >= config.decisions.strongSignal && (duty.get(id) ?? 0) >= config.thresholds.fleetMinDutyCycle;
  });
}
