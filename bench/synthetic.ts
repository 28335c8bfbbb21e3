/**
 * Deterministic synthetic traffic for tests and the benchmark when no simulator is available: access-log
 * access-log records (docs/contract.md) packed into CloudWatch Logs subscription envelopes exactly as CloudWatch writes them to
 * Kinesis (gzip JSON, DATA_MESSAGE), plus usage events.
 */
import { gzipSync } from 'node:zlib';
import type { AccessLogRecord, UsageEvent } from '../src/shared/contract';

/** Small, fast, seedable PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODELS = ['claude-sonnet-5', 'claude-haiku-5', 'claude-opus-5'];
const UAS = ['python-httpx/0.27.0', 'anthropic-sdk-typescript/1.4.0', 'curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64)', 'okhttp/4.12.0'];
const CLASSES = ['chat', 'coding', 'agentic', 'vision', 'cot_elicitation', 'rewrite', 'other'] as const;

export interface SynthOptions {
  seed?: number;
  accounts?: number;
  /** Start time, ms. @default 2026-11-02T00:00:00Z */
  start?: number;
  /** Mean gap between requests, ms. @default 5 */
  stepMs?: number;
  /** Fraction of requests from account 0 (a hot account). @default 0 */
  hotShare?: number;
}

function clf(ts: number): string {
  const d = new Date(ts);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export class TrafficGen {
  private r: () => number;
  private t: number;
  private seq = 0;
  readonly opts: Required<SynthOptions>;

  constructor(opts: SynthOptions = {}) {
    this.opts = { seed: 1, accounts: 200, start: Date.UTC(2026, 10, 2), stepMs: 5, hotShare: 0, ...opts };
    this.r = rng(this.opts.seed);
    this.t = this.opts.start;
  }

  nextRecord(): AccessLogRecord {
    const r = this.r;
    this.t += Math.floor(r() * this.opts.stepMs * 2);
    const acct = this.opts.hotShare > 0 && r() < this.opts.hotShare ? 0 : Math.floor(r() * this.opts.accounts);
    const status = r() < 0.9 ? 200 : r() < 0.5 ? 429 : r() < 0.5 ? 400 : 500;
    const model = MODELS[acct % 3 === 0 ? 0 : Math.floor(r() * MODELS.length)];
    const id = ++this.seq;
    return {
      requestId: `req-${this.opts.seed}-${id}`,
      requestTimeEpoch: String(this.t),
      requestTime: clf(this.t),
      accountId: `acct_${acct}`,
      apiKeyId: r() < 0.1 ? '-' : `key_${acct}_${Math.floor(r() * 2)}`,
      sourceIp: `10.${acct % 250}.${Math.floor(r() * 4)}.${Math.floor(r() * 250) + 1}`,
      userAgent: UAS[(acct + Math.floor(r() * 1.3)) % UAS.length],
      httpMethod: 'POST',
      path: `/prod/v1/models/${model}/messages`,
      status: String(status),
      responseLength: r() < 0.05 ? '-' : String(200 + Math.floor(r() * 8000)),
      integrationLatency: r() < 0.05 ? '-' : String(100 + Math.floor(r() * 3000)),
      accountCreatedAt: acct % 7 === 0 ? '-' : String(this.opts.start - (acct + 1) * 86_400_000),
    };
  }

  usageFor(rec: AccessLogRecord): UsageEvent {
    const r = this.r;
    const acct = Number(rec.accountId.slice(5));
    return {
      type: 'usage',
      requestId: rec.requestId,
      accountId: rec.accountId,
      timestamp: Number(rec.requestTimeEpoch) + 5,
      model: rec.path.split('/models/')[1].split('/')[0],
      promptClass: CLASSES[Math.floor(r() * CLASSES.length)],
      templateId: `t-${(acct * 31 + Math.floor(r() * 5)).toString(16)}`,
      inputTokens: Math.floor(r() * 2000),
      outputTokens: Math.floor(r() * 4000),
    };
  }

  records(n: number): AccessLogRecord[] {
    const out = new Array<AccessLogRecord>(n);
    for (let i = 0; i < n; i++) out[i] = this.nextRecord();
    return out;
  }
}

let envelopeSeq = 0;

/** A CloudWatch Logs subscription envelope as raw JSON (before gzip). */
export function envelopeJson(records: Array<AccessLogRecord | string>, logStream = 'abc123'): string {
  return JSON.stringify({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: 'API-Gateway-Execution-Logs_abc/prod',
    logStream,
    subscriptionFilters: ['distill-guard'],
    logEvents: records.map((rec) => {
      const message = typeof rec === 'string' ? rec : JSON.stringify(rec);
      const ts = typeof rec === 'string' ? Date.UTC(2026, 10, 2) : Number(rec.requestTimeEpoch);
      return { id: String(++envelopeSeq).padStart(56, '0'), timestamp: ts, message };
    }),
  });
}

/** Base64 of the gzip'd envelope: exactly what `record.kinesis.data` holds in the Lambda event. */
export function envelopeData(records: Array<AccessLogRecord | string>, logStream?: string): string {
  return gzipSync(envelopeJson(records, logStream)).toString('base64');
}

export function controlMessageData(): string {
  return gzipSync(
    JSON.stringify({
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
      logEvents: [{ id: '', timestamp: Date.now(), message: 'CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.' }],
    }),
  ).toString('base64');
}
