/**
 * Export from local traffic: replay the logs (the detector as deployed, log time as the clock), take the confirmed
 * clusters (or the ones named), and build the bundle from the members' profiles. The deployed exporter does the
 * same from the escalation store and the features table (lambdas/share).
 */
import type { ReplayReport } from '../shared/contract';
import type { DetectionConfig, ExternalIndicatorSet } from '../detect/index';
import { ReplayEngine, replayFiles } from '../replay/index';
import type { AccountProfile } from '../detect/profile';
import { summariseCampaign } from './campaign';
import type { CampaignSummary } from './campaign';
import { confirmedInReport } from './confirmed';
import { buildBundle } from './stix';
import type { StixBundle, Tlp } from './stix';

export interface SharingKey {
  id: string;
  secret: string;
}

export interface ReplayExportOptions {
  logs: string;
  usage?: string;
  /** Only these clusters (ids of the replay report); default: every confirmed cluster. */
  clusters?: string[];
  /** Only clusters active since (ms). */
  since?: number;
  producer: string;
  key: SharingKey;
  now?: number;
  tlp?: Tlp;
  validForMs?: number;
  config?: DetectionConfig;
  external?: ExternalIndicatorSet;
}

/** Campaign summaries of the chosen clusters of a finished replay. */
export function campaignsOf(engine: ReplayEngine, report: ReplayReport, key: SharingKey, only?: string[], since?: number): CampaignSummary[] {
  const ids = confirmedInReport(report as never, only ? new Set(only) : undefined);
  const out: CampaignSummary[] = [];
  for (const id of ids) {
    const c = report.clusters.find((x) => x.clusterId === id) as { accountIds: string[] } | undefined;
    if (!c) continue;
    const member = new Set(c.accountIds);
    const members = c.accountIds.map((a) => engine.profileOf(a)).filter((p): p is AccountProfile => p !== undefined);
    if (members.length === 0 || (since !== undefined && Math.max(...members.map((m) => m.lastTs)) < since)) continue;
    const others = [...engine.allProfiles()].filter((p) => !member.has(p.accountId));
    out.push(summariseCampaign(id, members, key.secret, { others, modelFirstSeen: engine.agg.store.modelFirstSeen() }));
  }
  return out;
}

export async function exportFromReplay(o: ReplayExportOptions): Promise<{ bundle: StixBundle; report: ReplayReport; campaigns: CampaignSummary[] }> {
  let engine: ReplayEngine | undefined;
  const report = await replayFiles({ logs: o.logs, usage: o.usage, config: o.config, external: o.external, onEngine: (e) => (engine = e) });
  const campaigns = campaignsOf(engine!, report, o.key, o.clusters, o.since);
  const bundle = buildBundle(campaigns, { producer: o.producer, keyId: o.key.id, now: o.now ?? Date.now(), tlp: o.tlp, validForMs: o.validForMs });
  return { bundle, report, campaigns };
}
