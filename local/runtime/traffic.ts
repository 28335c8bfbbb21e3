/**
 * Puts simulated traffic on the ingestion stream the way AWS delivers it: access-log records packed as
 * CloudWatch Logs subscription envelopes (gzip, several logEvents per record, `DATA_MESSAGE`, plus the
 * `CONTROL_MESSAGE` CloudWatch sends when a subscription starts), and usage events as plain JSON records
 * (docs/contract.md, "Usage event"). The stream, log group and filter name come from the template's subscription filter.
 */
import { randomBytes } from 'crypto';
import { gzipSync } from 'zlib';
import { KinesisClient, PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { AccessLogRecord, UsageEvent } from '../../src/shared/contract';
import { LocalStackModel, parseArn } from './template';

export interface LogEvent {
  id: string;
  timestamp: number;
  message: string;
}

export interface EnvelopeMeta {
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
}

/** The gzip'd CloudWatch Logs subscription payload (what Kinesis holds; Lambda sees it base64'd). */
export function cloudWatchEnvelope(
  meta: EnvelopeMeta,
  logEvents: LogEvent[],
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE' = 'DATA_MESSAGE',
): Buffer {
  return gzipSync(
    Buffer.from(
      JSON.stringify({
        messageType,
        owner: meta.owner,
        logGroup: meta.logGroup,
        logStream: meta.logStream,
        subscriptionFilters: meta.subscriptionFilters,
        logEvents,
      }),
    ),
  );
}

/** CloudWatch Logs event ids are 56-digit strings; make them unique and time-ordered. */
function eventId(ts: number, seq: number): string {
  return `${String(ts).padStart(20, '0')}${String(seq).padStart(36, '0')}`.slice(0, 56);
}

export interface IngestTarget {
  streamName: string;
  meta: EnvelopeMeta;
}

/** Where access logs go, from the template: the Kinesis destination of the subscription filter. */
export function ingestTarget(model: LocalStackModel): IngestTarget {
  const sf = model.subscriptionFilters.find((f) => parseArn(f.destinationArn).service === 'kinesis');
  const stream = sf ? model.streams.find((s) => s.arn === sf.destinationArn) : model.streams.length === 1 ? model.streams[0] : undefined;
  if (!stream)
    throw new Error(
      `cannot find the ingestion stream: no subscription filter to a kinesis stream in ${model.stackName}, and ${model.streams.length} streams`,
    );
  return {
    streamName: stream.name,
    meta: {
      owner: model.accountId,
      logGroup: sf?.logGroupName ?? 'API-Gateway-Execution-Logs_local/prod',
      logStream: 'local-access-logs',
      subscriptionFilters: [sf?.filterName ?? 'local'],
    },
  };
}

export interface WriterStats {
  logEvents: number;
  usageEvents: number;
  records: number;
  bytes: number;
  throttledRetries: number;
}

export interface TrafficWriterOptions {
  /** logEvents per envelope (CloudWatch batches per log stream; real batches vary). @default 25 */
  readonly eventsPerEnvelope?: number;
  /** Put usage events too. @default true */
  readonly usage?: boolean;
}

export class TrafficWriter {
  readonly stats: WriterStats = { logEvents: 0, usageEvents: 0, records: 0, bytes: 0, throttledRetries: 0 };
  private seq = 0;
  private streamIdx = 0;

  constructor(
    private readonly client: KinesisClient,
    private readonly target: IngestTarget,
    private readonly opts: TrafficWriterOptions = {},
  ) {}

  /** The control message CloudWatch Logs sends when a subscription filter starts delivering. */
  async control(): Promise<void> {
    const data = cloudWatchEnvelope(
      this.target.meta,
      [{ id: '', timestamp: Date.now(), message: 'CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.' }],
      'CONTROL_MESSAGE',
    );
    await this.putAll([{ Data: data, PartitionKey: randomBytes(8).toString('hex') }]);
  }

  /** Writes access-log records (+ usage events) in order. */
  async write(items: Array<{ log: AccessLogRecord; usage?: UsageEvent }>): Promise<void> {
    const per = this.opts.eventsPerEnvelope ?? 25;
    const entries: PutRecordsRequestEntry[] = [];
    for (let i = 0; i < items.length; i += per) {
      const chunk = items.slice(i, i + per);
      // one envelope per "log stream" batch, as CloudWatch Logs delivers them (several stage log streams)
      const meta = { ...this.target.meta, logStream: `${this.target.meta.logStream}-${this.streamIdx++ % 4}` };
      const logEvents = chunk.map((c) => ({
        id: eventId(Number(c.log.requestTimeEpoch) || Date.now(), this.seq++),
        timestamp: Number(c.log.requestTimeEpoch) || Date.now(),
        message: JSON.stringify(c.log),
      }));
      entries.push({ Data: cloudWatchEnvelope(meta, logEvents), PartitionKey: randomBytes(8).toString('hex') });
      this.stats.logEvents += chunk.length;
    }
    if (this.opts.usage !== false) {
      for (const it of items) {
        if (!it.usage) continue;
        entries.push({ Data: Buffer.from(JSON.stringify(it.usage)), PartitionKey: it.usage.accountId });
        this.stats.usageEvents++;
      }
    }
    await this.putAll(entries);
  }

  private async putAll(entries: PutRecordsRequestEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 500) {
      let batch = entries.slice(i, i + 500);
      for (let attempt = 0; batch.length > 0; attempt++) {
        const r = await this.client.send(new PutRecordsCommand({ StreamName: this.target.streamName, Records: batch }));
        const failed = batch.filter((_, j) => r.Records?.[j]?.ErrorCode);
        const ok = batch.length - failed.length;
        this.stats.records += ok;
        this.stats.bytes += batch.filter((_, j) => !r.Records?.[j]?.ErrorCode).reduce((s, e) => s + (e.Data?.length ?? 0), 0);
        if (failed.length === 0) break;
        if (attempt > 20)
          throw new Error(`putrecords kept failing for ${failed.length} records: ${r.Records?.find((x) => x.ErrorCode)?.ErrorMessage}`);
        this.stats.throttledRetries += failed.length;
        await new Promise((res) => setTimeout(res, Math.min(1000, 50 * 2 ** attempt)));
        batch = failed;
      }
    }
  }
}
