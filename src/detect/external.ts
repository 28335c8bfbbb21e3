/**
 * The `external-indicator` signal: an account's traffic matches indicators a partner provider shared about a
 * campaign it confirmed (a STIX 2.1 bundle, read by src/share). Its own evidence family (`external`), so it is
 * reported and shadowed on its own, and it never earns an abuse point: on its own it reaches `review` at most and
 * it never counts toward a suspension. Only this provider's own evidence can suspend.
 *
 * What is matched: the campaign's /24 prefixes (plain, or keyed hashes of them), its user agents, keyed hashes of
 * its template ids, and a behaviour profile (prompt-class mix, output/input token ratio). Behaviour and user
 * agents are common to many customers, so they only support an infrastructure or template match, never fire alone.
 * Hashes are HMAC-SHA256 under the sharing key the two providers agreed on (node:crypto: no dependency needed).
 */
import { createHmac } from 'node:crypto';
import type { Decision } from '../shared/contract';
import type { DetectionConfig } from './config';
import { isShadow } from './config';
import type { AccountFeatures } from './features';
import type { AccountProfile } from './profile';
import type { ReasonDetail } from './score';

const RANK: Record<Decision, number> = { allow: 0, monitor: 1, review: 2, suspend: 3 };

export interface ExternalIndicator {
  /** Who shared it (the bundle's identity name). */
  partner: string;
  /** STIX indicator id. */
  id: string;
  name: string;
  validFrom: number;
  /** ms; null: no expiry given. */
  validUntil: number | null;
  subnets: string[];
  subnetHashes: string[];
  userAgents: string[];
  templateHashes: string[];
  /** The campaign's behaviour: prompt-class shares and output/input token ratio (null: not given). */
  behaviour: { classMix: Record<string, number>; outputInputRatio: number | null } | null;
  /** The sharing key of this indicator's partner, when it differs from the set's (one key per partner). */
  key?: string | null;
}

export interface ExternalIndicatorSet {
  indicators: ExternalIndicator[];
  /** The sharing key the hashed values were made with (null: hashed values cannot be matched). */
  key: string | null;
}

export interface ExternalMatch {
  indicator: ExternalIndicator;
  subnets: number;
  userAgents: number;
  templates: number;
  behaviour: boolean;
  strength: number;
}

/** Keyed hash of one shared value: HMAC-SHA256(key, kind NUL value), hex. The export side uses the same function. */
export function sharedValueHash(key: string, kind: 'subnet' | 'template' | 'cluster', value: string): string {
  return createHmac('sha256', key).update(kind).update('\u0000').update(value).digest('hex');
}

/** Bounded memo of value hashes: the same subnets and templates recur on every scoring run. */
const memo = new Map<string, string>();
function memoHash(key: string, kind: 'subnet' | 'template', value: string): string {
  const k = `${key}\u0000${kind}\u0000${value}`;
  let h = memo.get(k);
  if (h === undefined) {
    if (memo.size >= 200_000) memo.clear();
    h = sharedValueHash(key, kind, value);
    memo.set(k, h);
  }
  return h;
}

function count(values: Iterable<string>, plain: Set<string>, hashed: Set<string>, key: string | null, kind: 'subnet' | 'template'): number {
  let n = 0;
  for (const v of values) {
    if (plain.has(v)) n++;
    else if (key !== null && hashed.size > 0 && hashed.has(memoHash(key, kind, v))) n++;
  }
  return n;
}

/** Does the account behave like the campaign: a close prompt-class mix and a comparable output/input ratio? */
export function behaviourMatches(f: AccountFeatures, b: NonNullable<ExternalIndicator['behaviour']>): boolean {
  if (f.usageEvents < 5) return false;
  const classes = new Set([...Object.keys(b.classMix), ...Object.keys(f.promptClassMix)]);
  let l1 = 0;
  for (const c of classes) l1 += Math.abs((b.classMix[c] ?? 0) - (f.promptClassMix[c] ?? 0));
  if (l1 > 0.4) return false;
  if (b.outputInputRatio === null || !f.avgInputTokens || f.avgOutputTokens === null) return true;
  const ratio = f.avgOutputTokens / f.avgInputTokens;
  return ratio >= b.outputInputRatio / 2 && ratio <= b.outputInputRatio * 2;
}

/**
 * Strength of one indicator's match: a shared prompt library (two templates) or campaign infrastructure used the
 * campaign's way is strong; one infrastructure or template hit alone is support (a VPN customer shares a proxy).
 */
export function matchStrength(m: Omit<ExternalMatch, 'strength' | 'indicator'>): number {
  if (m.templates >= 2) return 0.8;
  if (m.templates === 1 && (m.subnets > 0 || m.behaviour)) return 0.7;
  if (m.subnets > 0 && m.behaviour) return 0.65;
  if (m.subnets > 0 || m.templates === 1) return 0.35;
  if (m.userAgents > 0 && m.behaviour) return 0.25;
  return 0;
}

const NONE: Set<string> = new Set();
const prepared = new WeakMap<ExternalIndicator, { subnets: Set<string>; subnetHashes: Set<string>; uas: Set<string>; templateHashes: Set<string> }>();
function sets(i: ExternalIndicator) {
  let s = prepared.get(i);
  if (!s) {
    s = { subnets: new Set(i.subnets), subnetHashes: new Set(i.subnetHashes), uas: new Set(i.userAgents), templateHashes: new Set(i.templateHashes) };
    prepared.set(i, s);
  }
  return s;
}

/** The account's matches against the indicators valid at `now`, strongest first. */
export function externalMatches(p: AccountProfile, f: AccountFeatures, set: ExternalIndicatorSet, now: number): ExternalMatch[] {
  const out: ExternalMatch[] = [];
  for (const i of set.indicators) {
    if (now < i.validFrom || (i.validUntil !== null && now >= i.validUntil)) continue;
    const s = sets(i);
    let userAgents = 0;
    for (const ua of p.userAgents) if (s.uas.has(ua)) userAgents++;
    const key = i.key !== undefined ? i.key : set.key;
    const m = {
      subnets: count(p.subnets, s.subnets, s.subnetHashes, key, 'subnet'),
      userAgents,
      templates: count(p.templates, NONE, s.templateHashes, key, 'template'),
      behaviour: i.behaviour !== null && behaviourMatches(f, i.behaviour),
    };
    const strength = matchStrength(m);
    if (strength > 0) out.push({ indicator: i, ...m, strength });
  }
  return out.sort((a, b) => b.strength - a.strength);
}

/** Reason text of a match: the partner, the indicator and what matched. */
export function matchText(m: ExternalMatch): string {
  const parts: string[] = [];
  if (m.templates) parts.push(`${m.templates} template(s) of its prompt library`);
  if (m.subnets) parts.push(`${m.subnets} of its /24 network(s)`);
  if (m.userAgents) parts.push(`${m.userAgents} of its user agent(s)`);
  if (m.behaviour) parts.push('its prompt-class mix and output/input ratio');
  const until = m.indicator.validUntil !== null ? `, valid until ${new Date(m.indicator.validUntil).toISOString()}` : '';
  return `matches ${parts.join(', ')} in indicator "${m.indicator.name}" (${m.indicator.id}) shared by ${m.indicator.partner}${until}; a partner's evidence: review at most, never a suspension on its own`;
}

/** The signal: the strongest match, with the partner, the indicator and the match in its text. */
export function externalSignals(
  p: AccountProfile,
  f: AccountFeatures,
  set: ExternalIndicatorSet | undefined,
  now: number,
  cfg: DetectionConfig,
): ReasonDetail[] {
  if (!set || set.indicators.length === 0) return [];
  const matches = externalMatches(p, f, set, now);
  if (matches.length === 0) return [];
  const m = matches[0];
  const value = m.templates + m.subnets + m.userAgents + (m.behaviour ? 1 : 0);
  return [
    {
      signal: 'external-indicator',
      family: 'external',
      strength: m.strength,
      value,
      baseline: 0,
      text: matchText(m),
      shadow: isShadow(cfg, 'external-indicator'),
    },
  ];
}

/**
 * The decision with a partner's strong indicator taken into account: raised to `review` at most (never higher,
 * and never when the account's own evidence already decided more). Applied after the warm-up cap: a partner's
 * indicator is not measured against this population, so it needs no warm-up. Shadowed: no effect;
 * global shadow: `monitor` at most, like every other signal.
 */
export function withExternal(decision: Decision, details: ReasonDetail[], requests: number, cfg: DetectionConfig, ignoreShadow = false): Decision {
  if (RANK[decision] >= RANK.review || requests < cfg.thresholds.minRequests) return decision;
  const strong = details.some((r) => r.family === 'external' && (ignoreShadow || !r.shadow) && r.strength >= cfg.decisions.strongSignal);
  if (!strong) return decision;
  return cfg.globalShadow && !ignoreShadow ? 'monitor' : 'review';
}
