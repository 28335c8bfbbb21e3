/**
 * Public result types of cross-account linkage (see ./index.ts for the method). Kept apart so that the phase
 * modules and the consumers (score.ts, index.ts) can import them without pulling in the phases.
 */

import type { AccountProfile } from '../profile';

export type Family = 'content' | 'infra' | 'timing' | 'signup';
export const FAMILIES: Family[] = ['content', 'infra', 'timing', 'signup'];

export interface Edge {
  a: string;
  b: string;
  scores: Record<Family, number>;
  total: number;
  phi: number;
  sharedBuckets: number;
  sharedHours: number;
}

export interface SharedAttribute {
  /** `t:` template, `ip:` hashed IP, `sn:` subnet, `ua:` user agent, `key:` API key. */
  attribute: string;
  family: Family;
  /** Cluster members holding it. */
  members: number;
  /** Accounts in the whole population holding it (the rarity baseline). */
  population: number;
}

export interface ClusterEvidence {
  edges: number;
  /** Per family: edges where the family contributed (score >= 0.2), and their mean score. */
  families: Partial<Record<Family, { edges: number; meanScore: number }>>;
  /** Mean phi correlation over synchronized edges (0 when none). */
  meanPhi: number;
  /** Most widely shared rare attributes. */
  sharedAttributes: SharedAttribute[];
  /** Spread of account creation times among members (ms), null when unknown. */
  signupSpreadMs: number | null;
  /** Templates held by several members and (almost) nobody outside the cluster. */
  exclusiveTemplates: number;
}

export interface Cluster {
  clusterId: string;
  accountIds: string[];
  evidence: ClusterEvidence;
}

export interface AccountLink {
  clusterId: string;
  /** Per family: the mean score over the account's edges inside the cluster where the family contributed. */
  families: Record<Family, number>;
  /** Highest per-family score on any single edge. */
  maxFamilies: Record<Family, number>;
  degree: number;
  /** Templates this account shares with other accounts (rare ones only). */
  sharedTemplates: number;
  /** Templates it holds that are (almost) exclusive to its cluster. */
  exclusiveTemplates: number;
  /** Mean phi over the account's synchronized edges (0 when none) and how many peers it is synchronized with. */
  meanPhi: number;
  syncPeers: number;
  /**
   * Prompt library (group-level content evidence): the account's templates that belong to a library shared by a
   * group of accounts and (almost) nobody else, the account's 0..1 score, and the size of the library and group.
   * Zero when the account draws from no library.
   */
  libraryTemplates: number;
  libraryScore: number;
  librarySize: number;
  libraryAccounts: number;
  /** Which of the population's prompt libraries it draws from (absent when none): tells one library from another. */
  libraryGroup?: number;
}

export interface LinkageStats {
  accounts: number;
  attributes: number;
  indexedAttributes: number;
  skippedPopular: number;
  attributePairs: number;
  lshCandidates: number;
  verifiedPairs: number;
  edges: number;
  prunedLeaves: number;
}

export interface LinkageResult {
  clusters: Cluster[];
  byAccount: Map<string, AccountLink>;
  edges: Edge[];
  stats: LinkageStats;
}

/**
 * What linkage reads of an account once its pairs are verified (group evidence, pruning, cluster assembly): a
 * profile in the single path; in the sharded merge, the account record of the graph's nodes only (a sparse array).
 */
export type LinkageAccount = Pick<AccountProfile, 'accountId' | 'firstTs' | 'createdAt'> & { hours: ReadonlyMap<number, { n: number }> };

export interface LinkageOptions {
  /** Start and end of the observation period (ms), for the timing correlation. */
  periodStart: number;
  periodEnd: number;
  /** accountId -> clusterId from the previous run, so ids stay stable as clusters grow. */
  previous?: Map<string, string>;
}
