/**
 * Cross-account linkage: which accounts are run by the same operator.
 *
 * Two kinds of evidence, each scored 0..1 per pair of accounts and per evidence family:
 *
 * - shared RARE attributes (families `content`: prompt templates; `infra`: IPs, /24 subnets, user agents, API
 *   keys; `signup`: accounts created in the same short burst). An attribute held by `df` accounts weighs
 *   ln(K/df)/ln(K/2) (IDF-like, K = maxAttributeAccounts): held by two accounts it weighs 1, by K or more it
 *   weighs nothing and is not even indexed. A popular SDK user agent or a campus NAT therefore cannot link
 *   strangers. A family's score grows with the shared weight (saturating at `contentSaturation` / `infraSaturation`) and is damped when
 *   the shared part is a tiny fraction of what the two accounts hold (cosine < `familyMinCosine`), so a reseller
 *   with ten thousand IPs does not link to everyone it happens to share one with.
 * - synchronized activity (`timing`, SynchroTrap-style): each account's set of active time buckets; candidate
 *   pairs come from MinHash LSH over those sets (one-permutation hashing, banded), verified with the phi
 *   correlation of the two activity series over the observation period. Phi is chance-corrected: two accounts that
 *   are always on, or merely follow the same diurnal rhythm, score ~0; accounts that start and stop together score
 *   high. Co-activity must span several distinct hours.
 *
 * Cost: never all-pairs. Pairs are generated only inside inverted-index postings of attributes held by at most K
 * accounts (so at most K^2/2 pairs per attribute, i.e. O(K * total attributes)), and inside LSH band buckets; a
 * band bucket larger than `lshMaxBucket` is not expanded into all pairs: its members are sorted by signature and
 * compared with their `lshNeighbours` nearest (sorted-neighbourhood blocking). Total cost is linear in the number of
 * accounts for fixed K. See bench/detect-scale.ts for measured figures.
 *
 * An edge needs behavioural evidence first: one very strong content or timing family (>= minSingleFamilyScore), or
 * content and timing together, or one of them >= minPrimaryScore supported by infrastructure / sign-up time so
 * that the total reaches minEdgeScore. Infrastructure or sign-up time alone never links (proxies mix customers).
 * Clusters are connected components (union-find) of edges, keeping those with at least minClusterSize members.
 *
 * Phases, each in its own module over shared typed arrays (an AttributeIndex, a TimingIndex, a LinkGraph):
 *   1. attributes.ts  attribute dictionary, document frequencies, rarity weights, postings
 *   2. timing.ts      activity buckets, MinHash LSH timing candidates (and the time-of-day null model)
 *   3. verify.ts      pair verification: per-family scores, edge acceptance
 *   4. groups.ts      group evidence: synchronized triangles, prompt libraries
 *   5. graph.ts       leaf pruning, people beside a fleet (and the edge graph itself)
 *   6. clusters.ts    components -> clusters with evidence and per-account links
 */
import type { LinkageConfig } from '../config';
import type { AccountProfile } from '../profile';
import { buildAttributeIndex, type LinkageCache } from './attributes';
import { pruneLeaves, prunePersonalAttachments } from './graph';
import { addGroupEvidence } from './groups';
import { assembleClusters } from './clusters';
import { timingCandidates } from './timing';
import type { LinkageOptions, LinkageResult } from './types';
import { verifyPairs } from './verify';

export * from './types';
export { fmix32, fnv1a, rarityWeight, minhashSignature, bucketArray, complement, phi, UnionFind } from './primitives';
export { AttributeDict, LinkageCache, attributeNames, attributeWeight, isPlatform, buildAttributeIndex, type AttributeIndex } from './attributes';
export {
  timingWindow,
  timingCandidates,
  coActivity,
  emptyCoActivity,
  TimeOfDayModel,
  type TimingWindow,
  type TimingIndex,
  type CoActivity,
} from './timing';
export { PairScorer, acceptEdge, verifyPairs, emptyPairScore, type PairAccounts, type PairScore, type WeakPair, type Verification } from './verify';
export { addTriangleEdges, findPromptLibraries, addLibraryEdges, addGroupEvidence, type PromptLibraries } from './groups';
export { LinkGraph, pruneTimingLeaves, pruneLeaves, prunePersonalAttachments } from './graph';
export { components, assignClusterId, clusterEvidence, accountLink, assembleClusters } from './clusters';

export function linkAccounts(profiles: AccountProfile[], cfg: LinkageConfig, opts: LinkageOptions, cache?: LinkageCache): LinkageResult {
  const index = buildAttributeIndex(profiles, cfg, cache);
  const timing = timingCandidates(profiles, cfg, opts, cache);
  const { graph, weak, attributePairs, verifiedPairs } = verifyPairs(profiles, cfg, index, timing);
  const library = addGroupEvidence(graph, weak, profiles, index, cfg);
  const prunedLeaves = (cfg.syncPruneLeaves ? pruneLeaves(graph) : 0) + prunePersonalAttachments(graph, profiles, opts.periodEnd, cfg);
  const { clusters, byAccount } = assembleClusters(profiles, cfg, opts, index, graph, library);
  return {
    clusters,
    byAccount,
    edges: graph.edges,
    stats: {
      accounts: profiles.length,
      attributes: index.names.length,
      indexedAttributes: index.indexed,
      skippedPopular: index.skippedPopular,
      attributePairs,
      lshCandidates: timing.lshCandidates,
      verifiedPairs,
      edges: graph.edges.length,
      prunedLeaves,
    },
  };
}
