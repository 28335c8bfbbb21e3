/**
 * What a confirmed campaign looks like, derived from its members' stored features (AccountProfiles: windows merged),
 * in a form that can leave the provider: no account ids, API keys, IP hashes, template ids or raw addresses.
 *
 * Sharing comes after escalation in the data path (a cluster is shared once a reviewer approved it or its
 * suspension stood), hence `src/share/`. Plain TypeScript, no AWS imports.
 *
 * - /24s used by two or more members are the campaign's egress (datacenter, proxy): shared in plain. A /24 only one
 *   member used may be a person's home network: shared as a keyed hash the partner can match but not read;
 * - user agents are shared in plain, except any that contains a member's account id or API key;
 * - templates are shared as keyed hashes of their ids, only those no account outside the cluster used (a public
 *   system prompt says nothing about the campaign); their *shape* (counts, per-event diversity) in plain;
 * - timing (active hours of the day, cadence), prompt-class mix, token ratio and model-pivot delays in plain.
 */
import { computeFeatures, median } from '../detect/features';
import { sharedValueHash } from '../detect/external';
import type { ModelFirstSeen } from '../aggregate/window';
import type { AccountProfile } from '../detect/profile';
import { dataRecord } from '../shared/data-record';

export interface CampaignSummary {
  /** Keyed hash of the local cluster id (lets the exporter recognise its own campaign; says nothing to others). */
  ref: string;
  members: number;
  firstSeen: number;
  lastSeen: number;
  sharedSubnets: string[];
  subnetHashes: string[];
  userAgents: string[];
  templateHashes: string[];
  templateShape: { distinctTemplates: number; medianTemplatesPerAccount: number; templatesPerEvent: number | null };
  timing: { activeHoursOfDay: number[]; requestsPerActiveHour: number; dispersion: number | null };
  behaviour: { classMix: Record<string, number>; outputInputRatio: number | null; avgInputTokens: number | null; avgOutputTokens: number | null };
  /** Per model the cluster adopted: median hours from the model's first appearance to a member's first use. */
  pivot: { model: string; medianDelayHours: number }[];
}

const CAP = { subnets: 300, userAgents: 50, templates: 500 };

function sorted<T>(xs: Iterable<T>): T[] {
  return [...xs].sort();
}

/** The campaign summary of one cluster. `others` (the rest of the population) filters templates a non-member used. */
export function summariseCampaign(
  clusterId: string,
  members: AccountProfile[],
  key: string,
  opts: { others?: Iterable<AccountProfile>; apiKeys?: Iterable<string>; modelFirstSeen?: ModelFirstSeen; now?: number } = {},
): CampaignSummary {
  if (members.length === 0) throw new Error(`cluster ${JSON.stringify(clusterId)} has no members with features`);
  const subnetUse = new Map<string, number>();
  const uas = new Set<string>();
  const templates = new Set<string>();
  const hourOfDay = new Array<number>(24).fill(0);
  const classes = dataRecord();
  let usage = 0;
  let inTok = 0;
  let outTok = 0;
  const forbidden = [...members.map((m) => m.accountId), ...(opts.apiKeys ?? [])];
  for (const m of members) {
    for (const k of m.apiKeys) forbidden.push(k);
    for (const s of m.subnets) subnetUse.set(s, (subnetUse.get(s) ?? 0) + 1);
    for (const u of m.userAgents) uas.add(u);
    for (const t of m.templates) templates.add(t);
    m.hourOfDay.forEach((n, h) => (hourOfDay[h] += n));
    for (const [c, n] of Object.entries(m.promptClasses)) classes[c] = (classes[c] ?? 0) + n;
    usage += m.usageN;
    inTok += m.inputTokens;
    outTok += m.outputTokens;
  }
  for (const o of opts.others ?? []) for (const t of o.templates) templates.delete(t);
  const total = hourOfDay.reduce((a, b) => a + b, 0);
  const now = opts.now ?? Math.max(...members.map((m) => m.lastTs));
  const features = members.map((m) => computeFeatures(m, opts.modelFirstSeen ?? {}, now));
  const perHour = features.filter((f) => f.activeHours > 0).map((f) => f.requests / f.activeHours);
  const mix = dataRecord();
  if (usage > 0) for (const [c, n] of Object.entries(classes)) mix[c] = Number((n / usage).toFixed(3));
  const shared = sorted([...subnetUse].filter(([, n]) => n >= 2).map(([s]) => s)).slice(0, CAP.subnets);
  const single = sorted([...subnetUse].filter(([, n]) => n < 2).map(([s]) => s)).slice(0, CAP.subnets);
  return {
    ref: sharedValueHash(key, 'cluster', clusterId).slice(0, 16),
    members: members.length,
    firstSeen: Math.min(...members.map((m) => m.firstTs)),
    lastSeen: Math.max(...members.map((m) => m.lastTs)),
    sharedSubnets: shared,
    subnetHashes: sorted(single.map((s) => sharedValueHash(key, 'subnet', s))),
    userAgents: sorted([...uas].filter((u) => u.length > 0 && !forbidden.some((f) => f.length >= 4 && u.includes(f)))).slice(0, CAP.userAgents),
    templateHashes: sorted([...templates].map((t) => sharedValueHash(key, 'template', t))).slice(0, CAP.templates),
    templateShape: {
      distinctTemplates: templates.size,
      medianTemplatesPerAccount: median(members.map((m) => m.templates.size)) ?? 0,
      templatesPerEvent: usage > 0 ? Number((templates.size / usage).toFixed(4)) : null,
    },
    timing: {
      activeHoursOfDay: hourOfDay.flatMap((n, h) => (total > 0 && n / total >= 0.02 ? [h] : [])),
      requestsPerActiveHour: Number((median(perHour) ?? 0).toFixed(1)),
      dispersion: median(features.flatMap((f) => (f.dispersion === null ? [] : [f.dispersion]))),
    },
    behaviour: {
      classMix: mix,
      outputInputRatio: inTok > 0 ? Number((outTok / inTok).toFixed(3)) : null,
      avgInputTokens: usage > 0 ? Math.round(inTok / usage) : null,
      avgOutputTokens: usage > 0 ? Math.round(outTok / usage) : null,
    },
    pivot: pivotDelays(features),
  };
}

function pivotDelays(features: ReturnType<typeof computeFeatures>[]): CampaignSummary['pivot'] {
  const byModel = new Map<string, number[]>();
  for (const f of features) for (const [m, d] of Object.entries(f.adoptionDelayMs)) byModel.set(m, [...(byModel.get(m) ?? []), d]);
  return sorted(byModel.keys())
    .filter((m) => byModel.get(m)!.length >= 2)
    .map((m) => ({ model: m, medianDelayHours: Number(((median(byModel.get(m)!) ?? 0) / 3_600_000).toFixed(1)) }));
}
