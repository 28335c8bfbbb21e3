/**
 * Two providers' traffic from the simulator: A is one world; B is another world (another seed: other customers,
 * other networks) into which the same lab sends the same campaign through other accounts (A's campaign events,
 * accounts and API keys renamed, infrastructure and prompt library unchanged: the lab's own). B's traffic comes
 * after A's (the lab moves on to the next provider once A stopped it): both worlds and the campaign are shifted by
 * A's length, so the new model is released at the same point of each world.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { DEFAULT_START, clfTime, simulate } from '../../sim';
import type { Labels } from '../../sim';
import { logLine, usageLine } from '../../sim/simulate';

/** The campaign's accounts of a world, by its labels. */
export function campaignAccounts(labels: Labels): string[] {
  return Object.entries(labels)
    .filter(([, l]) => l.kind === 'campaign')
    .map(([id]) => id);
}

export interface World {
  /** The traffic in log-time order, as the local runtime's driver takes it. */
  events: { log: any; usage?: any }[];
  logs: string;
  usage: string;
  labels: Labels;
  accountIds: Set<string>;
  apiKeys: Set<string>;
  ips: Set<string>;
  templates: Set<string>;
}

function sink() {
  return {
    events: [] as { log: any; usage?: any }[],
    logs: [] as string[],
    usage: [] as string[],
    accountIds: new Set<string>(),
    apiKeys: new Set<string>(),
    ips: new Set<string>(),
    templates: new Set<string>(),
  };
}

function save(dir: string, name: string, s: ReturnType<typeof sink>, labels: Labels): World {
  mkdirSync(join(dir, name), { recursive: true });
  const logs = join(dir, name, 'logs.jsonl');
  const usage = join(dir, name, 'usage.jsonl');
  writeFileSync(logs, s.logs.join('\n') + '\n');
  writeFileSync(usage, s.usage.join('\n') + '\n');
  return { events: s.events, logs, usage, labels, accountIds: s.accountIds, apiKeys: s.apiKeys, ips: s.ips, templates: s.templates };
}

const DAY = 86_400_000;

export function twoProviders(dir: string, seedA = 101, seedB = 202, days = 3, start = DEFAULT_START): { a: World; b: World; exportAt: number } {
  const offset = days * DAY;
  const simA = simulate({ seed: seedA, scale: 'small', variant: 'base', days, start });
  const simB = simulate({ seed: seedB, scale: 'small', variant: 'base', days, start: start + offset });
  let exportAt = 0;
  const a = sink();
  const campaign: { log: any; usage?: any }[] = [];
  for (const e of simA.events()) {
    exportAt = Math.max(exportAt, Number(e.log.requestTimeEpoch));
    a.events.push({ log: e.log, usage: e.usage });
    a.logs.push(logLine(e.log));
    a.accountIds.add(e.log.accountId);
    a.apiKeys.add(e.log.apiKeyId);
    a.ips.add(e.log.sourceIp);
    if (e.usage) {
      a.usage.push(usageLine(e.usage));
      a.templates.add(e.usage.templateId);
    }
    if (simA.labels[e.log.accountId]?.kind === 'campaign') campaign.push({ log: e.log, usage: e.usage });
  }
  const b = sink();
  const labelsB: Labels = {};
  for (const [id, l] of Object.entries(simB.labels)) if (l.kind === 'organic') labelsB[id] = l;
  const rename = (id: string) => `${id}x`;
  const events: { t: number; log: any; usage?: any }[] = [];
  for (const e of simB.events())
    if (simB.labels[e.log.accountId]?.kind === 'organic') events.push({ t: Number(e.log.requestTimeEpoch), log: e.log, usage: e.usage });
  for (const e of campaign) {
    const id = rename(e.log.accountId);
    labelsB[id] = simA.labels[e.log.accountId];
    const t = Number(e.log.requestTimeEpoch) + offset;
    const created = Number(e.log.accountCreatedAt);
    events.push({
      t,
      log: {
        ...e.log,
        requestTimeEpoch: String(t),
        requestTime: clfTime(t),
        accountCreatedAt: Number.isFinite(created) && e.log.accountCreatedAt !== '-' ? String(created + offset) : e.log.accountCreatedAt,
        accountId: id,
        apiKeyId: rename(e.log.apiKeyId),
      },
      usage: e.usage ? { ...e.usage, accountId: id, timestamp: e.usage.timestamp + offset } : undefined,
    });
  }
  events.sort((x, y) => x.t - y.t);
  for (const e of events) {
    b.events.push({ log: e.log, usage: e.usage });
    b.logs.push(logLine(e.log));
    if (e.usage) b.usage.push(usageLine(e.usage));
  }
  return { a: save(dir, 'a', a, simA.labels), b: save(dir, 'b', b, labelsB), exportAt };
}

const SCHEMAS = join(__dirname, '..', '..', 'schemas', 'stix2.1');

/** Validates a STIX object against the published STIX 2.1 JSON schemas (vendored): the errors, or none. */
export function stixValidator(): (o: { type: string }) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const byType: Record<string, string> = {};
  for (const sub of ['common', 'sdos', 'sros']) {
    for (const f of readdirSync(join(SCHEMAS, sub))) {
      const s = JSON.parse(readFileSync(join(SCHEMAS, sub, f), 'utf8'));
      ajv.addSchema(s);
      byType[f.replace(/\.json$/, '')] = s.$id;
    }
  }
  return (o) => {
    const id = byType[o.type];
    if (!id) return [`no schema for type ${o.type}`];
    const v = ajv.getSchema(id)!;
    return v(o) ? [] : (v.errors ?? []).map((e) => `${o.type} ${e.instancePath} ${e.message}`);
  };
}
