/**
 * The simulation: builds the population from the options and seed, then emits requests in time order as
 * access-log records and usage events (docs/contract.md).
 *
 * Requests are generated one UTC day at a time (bounded memory), sorted, then materialised in time order, so
 * that per-account state (throttling, sticky addresses) evolves in log time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { AccessLogRecord, UsageEvent } from '../src/shared/contract';
import { DAY, DEFAULT_NEW_MODEL, HOUR, Network } from './catalog';
import { SimActor, SimRequest, World } from './actor';
import { CampaignResult, adaptiveCampaigns, agenticSweep, cotHarvest, modelPivot } from './campaigns';
import { bootcamp, cgnatMobile, classroom, companyTeam, evalCompany, platformTenants, roamingUser, serverlessCompany, toolUser } from './groups';
import {
  campusCohort,
  chatApp,
  codingAssistant,
  corporateCohort,
  earlyAdopter,
  enterpriseBatch,
  evalHarness,
  hackathonCohort,
  hobbyist,
  office,
  reseller,
  vpnUser,
} from './organic';
import { Rng } from './rng';
import { VARIANTS } from './types';
import type { AccountLabel, Labels, Scale, SimEvent, SimMeta, SimOptions, Variant } from './types';
import { drawWorld, splitGroups, teamSize } from './world';

export const GENERATOR = 'distill-guard-sim/1';
export const DEFAULT_START = Date.UTC(2026, 10, 2); // Monday 2026-11-02T00:00:00Z

interface Preset {
  days: number;
  organic: number;
  cot: number;
  agentic: number;
  pivot: number;
}
const PRESETS: Record<Scale, Preset> = {
  small: { days: 3, organic: 300, cot: 6, agentic: 20, pivot: 12 },
  medium: { days: 7, organic: 4000, cot: 36, agentic: 200, pivot: 120 },
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `$context.requestTime` format: `02/Nov/2026:00:00:09 +0000`. */
export function clfTime(t: number): string {
  const d = new Date(t);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

export class Simulation {
  readonly options: Required<Omit<SimOptions, 'releaseAt' | 'campaignScale'>> & { releaseAt: number; campaignScale: number };
  readonly labels: Labels = {};
  readonly meta: SimMeta;
  private readonly actors: SimActor[] = [];
  private readonly world: World;

  constructor(opts: SimOptions = {}) {
    const scale: Scale = opts.scale ?? 'medium';
    const preset = PRESETS[scale];
    if (!preset) throw new Error(`unknown scale: ${String(opts.scale)} (expected small or medium)`);
    const variant: Variant = opts.variant ?? 'base';
    if (!VARIANTS.includes(variant)) throw new Error(`unknown variant: ${String(variant)} (expected base, evasive or adaptive)`);
    const days = opts.days ?? preset.days;
    if (!(days >= 1 && days <= 60)) throw new Error(`days must be between 1 and 60, got ${String(opts.days)}`);
    const organicN = opts.organic ?? preset.organic;
    if (!(organicN >= 0)) throw new Error(`organic must be >= 0, got ${String(opts.organic)}`);
    const start = opts.start ?? DEFAULT_START;
    const end = start + days * DAY;
    const releaseAt = opts.releaseAt ?? start + Math.floor(days / 2) * DAY + 17 * HOUR;
    const seed = String(opts.seed ?? 1);
    const campaignScale = opts.campaignScale ?? 1;
    this.options = { seed, variant, scale, days, organic: organicN, start, newModel: opts.newModel ?? DEFAULT_NEW_MODEL, releaseAt, campaignScale };

    const rng = new Rng(`sim:${seed}`);
    const ids = new Set<string>();
    const actors = this.actors;
    const labels = this.labels;
    const net = new Network(rng.fork('net'));
    const plan = drawWorld(rng.fork('world'), net, organicN, releaseAt);
    const world: World = {
      seed,
      rng,
      net,
      plan,
      start,
      end,
      days,
      variant,
      newModel: this.options.newModel,
      releaseAt,
      newActor(label: AccountLabel): SimActor {
        let id: string;
        do id = `acct_${rng.hex(12)}`;
        while (ids.has(id));
        ids.add(id);
        const a = new SimActor(actors.length, id, label, new Rng(`${seed}:${id}`), world);
        actors.push(a);
        labels[id] = label;
        return a;
      },
      newShadow(owner: SimActor): SimActor {
        const a = new SimActor(actors.length, owner.id, owner.label, new Rng(`${seed}:${owner.id}:shadow`), world);
        a.createdAt = owner.createdAt;
        actors.push(a);
        return a;
      },
      relabel(actor: SimActor, label: AccountLabel): void {
        actor.label = label;
        labels[actor.id] = label;
      },
    };
    this.world = world;

    // ---- organic population: this seed's mix (world.ts draws it) ----
    const n = organicN;
    const mix = plan.params.mix;
    const groups = plan.params.groups;
    const gr = rng.fork('groups');
    for (let i = 0; i < mix.enterprise_batch; i++) enterpriseBatch(world);
    for (let i = 0; i < mix.eval_harness; i++) evalHarness(world, i === 0);
    for (let i = 0; i < mix.reseller; i++) reseller(world);
    for (const k of splitGroups(mix.eval_company, () => gr.int(2, 8))) evalCompany(world, k);
    for (const k of splitGroups(mix.hackathon, () => gr.int(8, 60), 8)) {
      hackathonCohort(world, k);
      groups.hackathons.push(k);
    }
    for (const k of splitGroups(mix.campus_nat, () => gr.int(25, 80), 10)) {
      campusCohort(world, k);
      groups.campuses.push(k);
    }
    for (const k of splitGroups(mix.corporate_nat, () => gr.int(5, 25), 3)) {
      corporateCohort(world, k);
      groups.corporate.push(k);
    }
    for (const k of splitGroups(mix.company_team, () => teamSize(gr), 2)) companyTeam(world, k);
    for (const k of splitGroups(mix.classroom, () => gr.int(12, 90), 12)) classroom(world, k);
    for (const k of splitGroups(mix.bootcamp, () => gr.int(10, 40), 8)) bootcamp(world, k);
    for (const k of splitGroups(mix.platform_tenant, () => gr.int(8, 150), 8)) platformTenants(world, k);
    for (const k of splitGroups(mix.serverless_app, () => (gr.chance(0.7) ? 1 : gr.int(2, 4)), 1)) serverlessCompany(world, k);
    const simple: Array<[(w: World) => SimActor, number]> = [
      [chatApp, mix.chat_app],
      [codingAssistant, mix.coding_assistant],
      [toolUser, mix.tool_user],
      [office, mix.office],
      [vpnUser, mix.vpn_user],
      [cgnatMobile, mix.cgnat_mobile],
      [roamingUser, mix.roaming_user],
      [(w) => earlyAdopter(w, false), mix.early_adopter - 1],
    ];
    if (n > 0) earlyAdopter(world, true);
    for (const [make, k] of simple) for (let i = 0; i < k; i++) make(world);
    while (n > 0 && actors.length < n) hobbyist(world);

    // ---- campaigns ----
    const cs = (k: number): number => Math.max(2, Math.round(k * campaignScale));
    let campaigns: CampaignResult[];
    if (variant === 'adaptive') {
      const covers = [(w: World) => hobbyist(w), (w: World) => codingAssistant(w), (w: World) => toolUser(w), (w: World) => cgnatMobile(w)];
      // attackers pick established accounts with regular use (and a payment method on file)
      const owners = [(w: World) => codingAssistant(w), (w: World) => office(w), (w: World) => roamingUser(w)];
      campaigns = adaptiveCampaigns(
        world,
        {
          cot: cs(preset.cot),
          sweep: cs(preset.agentic * 0.5),
          pivot: cs(preset.pivot * 0.5),
          takeover: cs(Math.max(3, preset.organic * 0.006)),
          solo: cs(scale === 'medium' ? 4 : 2),
        },
        covers,
        owners,
      );
    } else campaigns = [cotHarvest(world, cs(preset.cot)), agenticSweep(world, cs(preset.agentic)), modelPivot(world, cs(preset.pivot))];

    const byType: Record<string, number> = {};
    let organicCount = 0;
    let total = 0;
    for (const l of Object.values(labels)) {
      byType[l.type] = (byType[l.type] ?? 0) + 1;
      if (l.kind === 'organic') organicCount++;
      total++;
    }
    this.meta = {
      generator: GENERATOR,
      seed,
      variant,
      scale,
      days,
      start,
      end,
      newModel: this.options.newModel,
      newModelReleaseAt: releaseAt,
      accounts: { organic: organicCount, campaign: total - organicCount, byType },
      campaigns: Object.fromEntries(campaigns.map((c) => [c.name, { accounts: c.accounts.length, ...(c.pivotAt ? { pivotAt: c.pivotAt } : {}) }])),
      world: plan.params,
    };
  }

  private consumed = false;

  /**
   * Every request of the run, in time order (ties broken deterministically). A Simulation can be iterated once
   * (its accounts carry state); call `simulate()` again with the same options for an identical second pass.
   */
  *events(): Generator<SimEvent> {
    if (this.consumed) throw new Error('this simulation was already iterated: call simulate() again with the same options');
    this.consumed = true;
    const { start, end } = this.world;
    const releaseAt = this.world.releaseAt;
    const newModel = this.world.newModel;
    let pendT: number[] = [];
    let pendA: number[] = [];
    const buf: number[] = [];
    for (let day = start; day < end; day += DAY) {
      const dayEnd = Math.min(day + DAY, end);
      const ts: number[] = [];
      const as: number[] = [];
      const nextT: number[] = [];
      const nextA: number[] = [];
      const push = (t: number, a: number): void => {
        if (t < dayEnd) {
          ts.push(t);
          as.push(a);
        } else if (t < end) {
          nextT.push(t);
          nextA.push(a);
        }
      };
      for (let i = 0; i < pendT.length; i++) push(pendT[i], pendA[i]);
      for (const actor of this.actors) {
        buf.length = 0;
        actor.schedule(day, dayEnd, buf);
        for (const raw of buf) {
          const t = Math.floor(raw);
          if (t < day || t < actor.activeFrom || t >= actor.activeUntil) continue;
          push(t, actor.idx);
        }
      }
      pendT = nextT;
      pendA = nextA;
      const order = new Uint32Array(ts.length);
      for (let i = 0; i < order.length; i++) order[i] = i;
      order.sort((x, y) => ts[x] - ts[y] || as[x] - as[y] || x - y);
      for (let k = 0; k < order.length; k++) {
        const i = order[k];
        const actor = this.actors[as[i]];
        const t = ts[i];
        const req = actor.request(t);
        // the new model does not exist before its release
        if (req.model === newModel && t < releaseAt) req.model = actor.models.draw(actor.rng);
        yield this.format(actor, t, req);
      }
    }
  }

  /** The same events as an async iterator (for consumers that await between records). */
  async *stream(): AsyncGenerator<SimEvent> {
    for (const e of this.events()) yield e;
  }

  private format(actor: SimActor, t: number, req: SimRequest): SimEvent {
    const rng = actor.rng;
    const requestId = rng.uuid();
    let responseLength: string;
    let latency: string;
    switch (req.status) {
      case 200:
        responseLength = String(Math.round(req.outTok * rng.uniform(3.7, 4.3) + 320));
        latency = String(Math.round(rng.lognormal(380, 0.3) + req.inTok * 0.02 + req.outTok * rng.lognormal(13, 0.2)));
        break;
      case 429:
        if (rng.chance(0.6)) {
          responseLength = '31';
          latency = '-';
        } else {
          responseLength = String(rng.int(140, 170));
          latency = String(rng.int(8, 40));
        }
        break;
      case 504:
        responseLength = '41';
        latency = String(rng.int(29000, 29050));
        break;
      default:
        responseLength = String(rng.int(90, 260));
        latency = String(req.status >= 500 ? rng.int(50, 3000) : rng.int(5, 60));
    }
    if (rng.next() < 0.0005) responseLength = '-';
    const log: AccessLogRecord = {
      requestId,
      requestTimeEpoch: String(t),
      requestTime: clfTime(t),
      accountId: actor.id,
      apiKeyId: req.key,
      sourceIp: req.ip,
      userAgent: req.ua,
      httpMethod: 'POST',
      path: `/prod/v1/models/${req.model}/messages`,
      status: String(req.status),
      responseLength,
      integrationLatency: latency,
      accountCreatedAt: actor.createdAt === null ? '-' : String(Math.floor(actor.createdAt)),
    };
    if (req.status !== 200) return { log };
    const usage: UsageEvent = {
      type: 'usage',
      requestId,
      accountId: actor.id,
      timestamp: t,
      model: req.model,
      promptClass: req.cls,
      templateId: req.tpl,
      inputTokens: req.inTok,
      outputTokens: req.outTok,
    };
    return { log, usage };
  }

  /**
   * Write DIR/logs.jsonl[.gz], DIR/usage.jsonl[.gz], DIR/labels.json (ground truth: for the eval harness only)
   * and DIR/meta.json.
   */
  async writeTo(dir: string, opts: { gzip?: boolean; usage?: boolean; onEvent?: (e: SimEvent) => void } = {}): Promise<WriteSummary> {
    const gzip = opts.gzip ?? true;
    const withUsage = opts.usage ?? true;
    fs.mkdirSync(dir, { recursive: true });
    const ext = gzip ? '.jsonl.gz' : '.jsonl';
    const logsPath = path.join(dir, `logs${ext}`);
    const usagePath = path.join(dir, `usage${ext}`);
    const logs = new LineSink(logsPath, gzip);
    const usage = withUsage ? new LineSink(usagePath, gzip) : undefined;
    let lines = 0;
    let usageLines = 0;
    let firstTs = Infinity;
    let lastTs = -Infinity;
    for (const e of this.events()) {
      lines++;
      opts.onEvent?.(e);
      const t = Number(e.log.requestTimeEpoch);
      if (t < firstTs) firstTs = t;
      lastTs = t;
      await logs.write(logLine(e.log));
      if (usage && e.usage) {
        usageLines++;
        await usage.write(usageLine(e.usage));
      }
    }
    await logs.close();
    if (usage) await usage.close();
    const meta = { ...this.meta, lines, usageLines, firstTs, lastTs };
    fs.writeFileSync(path.join(dir, 'labels.json'), JSON.stringify(this.labels));
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
    return {
      logsPath,
      usagePath: usage ? usagePath : undefined,
      labelsPath: path.join(dir, 'labels.json'),
      metaPath: path.join(dir, 'meta.json'),
      lines,
      usageLines,
    };
  }
}

/** JSON string of a value that is known to need no escaping (checked once, falls back to JSON.stringify). */
// eslint-disable-next-line no-control-regex -- only strings free of control characters pass
const SAFE = /^[^"\\\u0000-\u001f]*$/;
function q(s: string): string {
  return SAFE.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * One access-log line, keys in the order of docs/contract.md, "Access-log record". Hand-built (2-3x faster than JSON.stringify on this shape):
 * every value but the user agent and model is generated here from [0-9a-z_./: +-], which needs no escaping.
 */
export function logLine(l: AccessLogRecord): string {
  return (
    `{"requestId":"${l.requestId}","requestTimeEpoch":"${l.requestTimeEpoch}","requestTime":"${l.requestTime}",` +
    `"accountId":${q(l.accountId)},"apiKeyId":"${l.apiKeyId}","sourceIp":"${l.sourceIp}","userAgent":${q(l.userAgent)},` +
    `"httpMethod":"${l.httpMethod}","path":${q(l.path)},"status":"${l.status}","responseLength":"${l.responseLength}",` +
    `"integrationLatency":"${l.integrationLatency}","accountCreatedAt":"${l.accountCreatedAt}"}`
  );
}

export function usageLine(u: UsageEvent): string {
  return (
    `{"type":"usage","requestId":"${u.requestId}","accountId":${q(u.accountId)},"timestamp":${u.timestamp},` +
    `"model":${q(u.model)},"promptClass":"${u.promptClass}","templateId":"${u.templateId}",` +
    `"inputTokens":${u.inputTokens},"outputTokens":${u.outputTokens}}`
  );
}

export interface WriteSummary {
  logsPath: string;
  usagePath?: string;
  labelsPath: string;
  metaPath: string;
  lines: number;
  usageLines: number;
}

/** Buffered line writer with backpressure, optionally gzip (level 1: the files are large and read once). */
class LineSink {
  private static readonly SIZE = 4 << 20;
  private buf = Buffer.allocUnsafe(LineSink.SIZE);
  private off = 0;
  private readonly out: NodeJS.WritableStream;
  private readonly file: fs.WriteStream;

  constructor(file: string, gzip: boolean) {
    this.file = fs.createWriteStream(file);
    if (gzip) {
      const gz = zlib.createGzip({ level: 1 });
      gz.pipe(this.file);
      this.out = gz;
    } else this.out = this.file;
  }

  async write(line: string): Promise<void> {
    // worst case 3 bytes per UTF-16 unit, plus the newline
    if (this.off + line.length * 3 + 1 > LineSink.SIZE) await this.flush();
    if (line.length * 3 + 1 > LineSink.SIZE) {
      await this.push(Buffer.from(`${line}\n`));
      return;
    }
    this.off += this.buf.write(line, this.off, 'utf8');
    this.buf[this.off++] = 10;
  }

  private async flush(): Promise<void> {
    if (this.off === 0) return;
    const chunk = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(LineSink.SIZE);
    this.off = 0;
    await this.push(chunk);
  }

  private async push(chunk: Buffer): Promise<void> {
    if (!this.out.write(chunk)) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.file.once('error', reject);
      this.file.once('close', () => resolve());
      this.out.end();
    });
  }
}

/** Build a simulation. `simulate(opts).events()` streams `{log, usage?}` in time order without touching disk. */
export function simulate(opts: SimOptions = {}): Simulation {
  return new Simulation(opts);
}
