/**
 * STIX 2.1 bundles of campaign indicators, and reading a partner's bundle back into the detector's
 * ExternalIndicatorSet. Objects are built by hand (no maintained STIX package for JavaScript; the schemas under
 * schemas/stix2.1/ check them in tests, and every pattern goes through the grammar check in ./pattern).
 *
 * One campaign gives an `infrastructure` (with its timing, behaviour and template shape as `x_distill_guard_*`
 * properties), up to three `indicator`s (network, prompt library, behaviour) that `indicate` it, all created by the
 * exporter's `identity` and marked with a TLP `marking-definition`. Indicators that carry keyed hashes name the
 * key in `x_distill_guard_hash_key_id`. Ids are UUIDv5 of the content's identity, so re-exporting a campaign
 * updates the same objects.
 */
import { createHash } from 'node:crypto';
import type { ExternalIndicator, ExternalIndicatorSet } from '../detect/external';
import type { CampaignSummary } from './campaign';
import { parsePattern, patternString } from './pattern';

/** Namespace of the UUIDv5 ids (a fixed random UUID). */
const NS = '5d1c6a0e-8f0a-4b8e-9a53-2f7c5b0e4d11';
export const TLP = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;
export type Tlp = keyof typeof TLP;
export const KEY_ID_PROP = 'x_distill_guard_hash_key_id';
const UA_PATH = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'";

export type StixObject = Record<string, unknown> & { type: string; id: string };
export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

export interface BundleOptions {
  /** The exporting provider's name (the `identity`). */
  producer: string;
  keyId: string;
  /** Export time, ms. */
  now: number;
  /** How long the indicators stay valid, ms. @default 30 days */
  validForMs?: number;
  /** @default 'amber' */
  tlp?: Tlp;
}

/** RFC 4122 name-based UUID (version 5, SHA-1): the `uuid` package ships no types here, and this is six lines. */
export function uuidv5(name: string, namespace: string): string {
  const h = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name)
    .digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const iso = (t: number) => new Date(t).toISOString();
const sid = (type: string, name: string) => `${type}--${uuidv5(`${type}:${name}`, NS)}`;
const list = (vs: string[]) => `(${vs.map(patternString).join(', ')})`;

/** The STIX pattern of each indicator kind (null when the campaign gave no values of that kind). */
export function campaignPatterns(c: CampaignSummary): { network: string | null; library: string | null; behaviour: string | null } {
  const net: string[] = [];
  const v4 = c.sharedSubnets.filter((s) => !s.includes(':'));
  const v6 = c.sharedSubnets.filter((s) => s.includes(':'));
  if (v4.length) net.push(v4.map((s) => `[ipv4-addr:value ISSUBSET ${patternString(s)}]`).join(' OR '));
  if (v6.length) net.push(v6.map((s) => `[ipv6-addr:value ISSUBSET ${patternString(s)}]`).join(' OR '));
  if (c.subnetHashes.length) net.push(`[x-distill-guard-network:subnet_hmac IN ${list(c.subnetHashes)}]`);
  if (c.userAgents.length) net.push(`[${UA_PATH} IN ${list(c.userAgents)}]`);
  const b = c.behaviour;
  const terms = Object.entries(b.classMix)
    .filter(([, s]) => s >= 0.1)
    .map(([k, s]) => `x-distill-guard-usage:prompt_class_share.${k.replace(/[^a-z0-9_]/gi, '_')} >= ${Math.max(0, s - 0.15).toFixed(2)}`);
  if (b.outputInputRatio !== null) terms.push(`x-distill-guard-usage:output_input_ratio >= ${(b.outputInputRatio / 2).toFixed(3)}`);
  return {
    network: net.length ? net.join(' OR ') : null,
    library: c.templateHashes.length ? `[x-distill-guard-usage:template_hmac IN ${list(c.templateHashes)}]` : null,
    behaviour: terms.length ? `[${terms.join(' AND ')}]` : null,
  };
}

/** The bundle of a set of confirmed campaigns. Every pattern is checked against the grammar before it is written. */
export function buildBundle(campaigns: CampaignSummary[], o: BundleOptions): StixBundle {
  const now = iso(o.now);
  const until = iso(o.now + (o.validForMs ?? 30 * 86_400_000));
  const tlp = TLP[o.tlp ?? 'amber'];
  const identity = sid('identity', o.producer);
  const common = { spec_version: '2.1', created_by_ref: identity, object_marking_refs: [tlp] };
  const objects: StixObject[] = [
    {
      type: 'identity',
      spec_version: '2.1',
      id: identity,
      created: now,
      modified: now,
      name: o.producer,
      identity_class: 'organization',
      object_marking_refs: [tlp],
    },
    {
      type: 'marking-definition',
      spec_version: '2.1',
      id: tlp,
      created: '2017-01-20T00:00:00.000Z',
      definition_type: 'tlp',
      name: `TLP:${(o.tlp ?? 'amber').toUpperCase()}`,
      definition: { tlp: o.tlp ?? 'amber' },
    },
  ];
  for (const c of campaigns) {
    const infra = sid('infrastructure', `${o.producer}:${c.ref}`);
    objects.push({
      type: 'infrastructure',
      ...common,
      id: infra,
      created: now,
      modified: now,
      name: `model-distillation campaign ${c.ref}`,
      description: `${c.members} accounts run together to extract model outputs (confirmed by ${o.producer})`,
      infrastructure_types: ['anonymization', 'botnet'],
      first_seen: iso(c.firstSeen),
      last_seen: iso(c.lastSeen),
      x_distill_guard_campaign: { members: c.members, timing: c.timing, behaviour: c.behaviour, template_shape: c.templateShape, pivot: c.pivot },
    });
    const patterns = campaignPatterns(c);
    const kinds: [keyof typeof patterns, string, boolean][] = [
      ['network', 'network and clients', c.subnetHashes.length > 0],
      ['library', 'prompt library', true],
      ['behaviour', 'usage profile', false],
    ];
    for (const [kind, label, hashed] of kinds) {
      const pattern = patterns[kind];
      if (!pattern) continue;
      parsePattern(pattern);
      const id = sid('indicator', `${o.producer}:${c.ref}:${kind}`);
      objects.push({
        type: 'indicator',
        ...common,
        id,
        created: now,
        modified: now,
        name: `${label} of model-distillation campaign ${c.ref}`,
        indicator_types: ['malicious-activity'],
        pattern,
        pattern_type: 'stix',
        pattern_version: '2.1',
        valid_from: iso(c.firstSeen),
        valid_until: until,
        ...(hashed ? { [KEY_ID_PROP]: o.keyId } : {}),
        ...(kind === 'behaviour' ? { x_distill_guard_behaviour: c.behaviour } : {}),
      });
      objects.push({
        type: 'relationship',
        ...common,
        id: sid('relationship', `${id}:indicates:${infra}`),
        created: now,
        modified: now,
        relationship_type: 'indicates',
        source_ref: id,
        target_ref: infra,
      });
    }
  }
  return { type: 'bundle', id: `bundle--${uuidv5(`bundle:${o.producer}:${now}:${campaigns.map((c) => c.ref).join(',')}`, NS)}`, objects };
}

const ms = (v: unknown, what: string): number => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new Error(`${what} must be a stix timestamp, got ${JSON.stringify(v)}`);
  return t;
};

/**
 * A partner's bundle as the detector's indicator set: one ExternalIndicator per infrastructure (its indicators'
 * values merged, valid from the earliest `valid_from` to the latest `valid_until`), or per indicator that
 * indicates none. Throws on a malformed bundle or pattern, or when hashed values were made with another key id.
 */
export function readBundle(bundle: unknown, key: { id: string; secret: string } | null): ExternalIndicatorSet {
  const b = bundle as Partial<StixBundle> | null;
  if (!b || b.type !== 'bundle' || !Array.isArray(b.objects)) throw new Error(`not a stix bundle: type ${JSON.stringify(b?.type)}`);
  const byId = new Map(b.objects.map((o) => [o.id, o]));
  const target = new Map<string, string>();
  for (const o of b.objects)
    if (o.type === 'relationship' && o.relationship_type === 'indicates') target.set(String(o.source_ref), String(o.target_ref));
  const groups = new Map<string, ExternalIndicator>();
  for (const o of b.objects) {
    if (o.type !== 'indicator' || o.pattern_type !== 'stix' || o.revoked === true) continue;
    const keyId = o[KEY_ID_PROP];
    if (keyId !== undefined && key !== null && keyId !== key.id)
      throw new Error(`indicator ${o.id} is hashed with key id ${JSON.stringify(keyId)}, the sharing key given is ${JSON.stringify(key.id)}`);
    const groupId = target.get(o.id) ?? o.id;
    const creator = byId.get(String(o.created_by_ref));
    let g = groups.get(groupId);
    if (!g) {
      const infra = byId.get(groupId);
      g = {
        partner: typeof creator?.name === 'string' ? creator.name : 'unknown partner',
        id: groupId,
        name: String(infra?.name ?? o.name ?? groupId),
        validFrom: ms(o.valid_from, 'valid_from'),
        validUntil: null,
        subnets: [],
        subnetHashes: [],
        userAgents: [],
        templateHashes: [],
        behaviour: null,
      };
      groups.set(groupId, g);
    }
    g.validFrom = Math.min(g.validFrom, ms(o.valid_from, 'valid_from'));
    if (o.valid_until !== undefined) g.validUntil = Math.max(g.validUntil ?? 0, ms(o.valid_until, 'valid_until'));
    addComparisons(g, String(o.pattern));
    const beh = o.x_distill_guard_behaviour as { classMix?: Record<string, number>; outputInputRatio?: number | null } | undefined;
    if (beh && typeof beh.classMix === 'object' && beh.classMix)
      g.behaviour = { classMix: { ...beh.classMix }, outputInputRatio: typeof beh.outputInputRatio === 'number' ? beh.outputInputRatio : null };
  }
  return { indicators: [...groups.values()], key: key?.secret ?? null };
}

function addComparisons(g: ExternalIndicator, pattern: string): void {
  for (const c of parsePattern(pattern)) {
    if (c.negated) continue;
    const values = (Array.isArray(c.value) ? c.value : [c.value]).filter((v): v is string => typeof v === 'string');
    const eq = c.op === '=' || c.op === 'IN' || c.op === 'ISSUBSET';
    if (!eq) continue;
    if ((c.objectType === 'ipv4-addr' || c.objectType === 'ipv6-addr') && c.path === 'value') g.subnets.push(...values.map(prefix));
    else if (c.objectType === 'x-distill-guard-network' && c.path === 'subnet_hmac') g.subnetHashes.push(...values);
    else if (c.objectType === 'network-traffic' && /'User-Agent'$/i.test(c.path)) g.userAgents.push(...values);
    else if (c.objectType === 'x-distill-guard-usage' && c.path === 'template_hmac') g.templateHashes.push(...values);
  }
}

/** A partner's address or prefix in the form the features keep: `a.b.c.0/24` (a single address gives its /24). */
function prefix(v: string): string {
  const m = /^(\d+\.\d+\.\d+)\.\d+(\/\d+)?$/.exec(v);
  return m ? `${m[1]}.0/24` : v;
}
