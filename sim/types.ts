import type { AccessLogRecord, UsageEvent } from '../src/shared/contract';

export type Variant = 'base' | 'evasive' | 'adaptive';
export const VARIANTS: readonly Variant[] = ['base', 'evasive', 'adaptive'];
export type Scale = 'small' | 'medium';

export const ORGANIC_TYPES = [
  'hobbyist',
  'chat_app',
  'coding_assistant',
  'office',
  'corporate_nat',
  'campus_nat',
  'vpn_user',
  'early_adopter',
  'enterprise_batch',
  'eval_harness',
  'reseller',
  'hackathon',
  'company_team',
  'classroom',
  'bootcamp',
  'tool_user',
  'eval_company',
  'platform_tenant',
  'cgnat_mobile',
  'roaming_user',
  'serverless_app',
] as const;
export type OrganicType = (typeof ORGANIC_TYPES)[number];

export const CAMPAIGNS = [
  'cot_harvest',
  'agentic_sweep',
  'model_pivot',
  // the adaptive variant (an adversary that has read the public reports)
  'adaptive_cot',
  'adaptive_sweep',
  'adaptive_pivot',
  'takeover',
  'solo_heavy',
] as const;
export type CampaignName = (typeof CAMPAIGNS)[number];

/**
 * Ground truth for one account, written to labels.json. ONLY the eval harness reads it; detection never does.
 * `type` is the organic type, or for a campaign account the campaign name (then `accountType` says which kind of
 * account the campaign used: fresh sign-up, aged/bought, team).
 */
export interface AccountLabel {
  kind: 'organic' | 'campaign';
  type: OrganicType | CampaignName;
  campaign?: CampaignName;
  accountType?: string;
  /**
   * Only for `takeover` accounts: when the attacker took the (until then organic) account over, ms. Requests
   * before it are the owner's own; after it the owner's use continues beside the extraction traffic.
   */
  takeoverAt?: number;
}

export type Labels = Record<string, AccountLabel>;

export interface SimOptions {
  /** Seed; the same options and seed give byte-identical output. @default 1 */
  seed?: number | string;
  /** @default 'base' */
  variant?: Variant;
  /** Preset sizes. @default 'medium' */
  scale?: Scale;
  /** Days of traffic. @default 7 (medium), 3 (small) */
  days?: number;
  /** Organic accounts. @default 4000 (medium), 300 (small) */
  organic?: number;
  /** Multiplies the number of campaign accounts of the preset. @default 1 */
  campaignScale?: number;
  /** Start of the traffic, ms (midnight UTC recommended). @default 2026-11-02T00:00:00Z */
  start?: number;
  /** The model released mid-run. @default 'claude-opus-6' */
  newModel?: string;
  /** Release time of the new model (its first request), ms. @default start + floor(days / 2) days + 17 h */
  releaseAt?: number;
}

/** One request: its access-log record and, when the serving tier produced one (HTTP 200), its usage event. */
export interface SimEvent {
  log: AccessLogRecord;
  usage?: UsageEvent;
}

export interface SimMeta {
  generator: string;
  seed: string;
  variant: Variant;
  scale: Scale;
  days: number;
  start: number;
  end: number;
  newModel: string;
  newModelReleaseAt: number;
  accounts: { organic: number; campaign: number; byType: Record<string, number> };
  campaigns: Record<string, { accounts: number; pivotAt?: number }>;
  /** The population this seed drew (mix and parameters), so an evaluator can print what world it scored. */
  world: import('./world').WorldParams;
}
