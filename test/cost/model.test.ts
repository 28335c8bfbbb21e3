import { gzipSync } from 'node:zlib';
import { ACCESS_LOG_RECORD_FIELDS } from '../support/contract-fields';
import {
  comparePaths,
  ddbCapacityModes,
  DEFAULT_INPUTS,
  estimateCost,
  expectedDistinctAccounts,
  measureRecordBytes,
  recommendParallelizationFactor,
  monthlyCost,
  PRICES,
  renderMarkdown,
  renderPricesMarkdown,
  renderText,
  sampleAccessLogRecord,
  SECONDS_PER_MONTH,
} from '../../src/cost/index';

describe('prices', () => {
  it('every price cites an https source and a positive amount', () => {
    for (const p of Object.values(PRICES)) {
      expect(p.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(p.sourceTitle.length).toBeGreaterThan(5);
      expect(p.usd).toBeGreaterThan(0);
    }
  });

  it('uses the current (post 2024-11-01) DynamoDB on-demand prices', () => {
    expect(PRICES.ddbWriteRequestUnit.usd * 1e6).toBeCloseTo(0.625, 6);
    expect(PRICES.ddbReadRequestUnit.usd * 1e6).toBeCloseTo(0.125, 6);
  });

  it('applies tiers cumulatively', () => {
    const fh = PRICES.firehoseDirectPutGb;
    expect(monthlyCost(fh, 100)).toBeCloseTo(100 * 0.029, 6);
    const tb500 = 500 * 1024;
    expect(monthlyCost(fh, tb500 + 1000)).toBeCloseTo(tb500 * 0.029 + 1000 * 0.025, 3);
    expect(monthlyCost(PRICES.sqsRequest, 1e6)).toBeCloseTo(0.4, 9);
    expect(() => monthlyCost(fh, -1)).toThrow(/got -1/);
  });

  it('renders a source table naming every service', () => {
    const md = renderPricesMarkdown();
    for (const s of [
      'CloudWatch Logs',
      'Kinesis Data Streams',
      'Lambda',
      'DynamoDB',
      'Step Functions',
      'EventBridge',
      'SQS',
      'KMS',
      'Amazon Data Firehose',
    ]) {
      expect(md).toContain(`| ${s} |`);
    }
  });
});

describe('access-log record size', () => {
  it('a realistic access-log record is 400-500 bytes and the default matches the measurement', () => {
    const r = sampleAccessLogRecord(1);
    expect(Object.keys(r)).toEqual(ACCESS_LOG_RECORD_FIELDS);
    const measured = measureRecordBytes();
    expect(measured).toBeGreaterThan(400);
    expect(measured).toBeLessThan(500);
    expect(Math.abs(DEFAULT_INPUTS.recordBytes - measured) / measured).toBeLessThan(0.05);
  });

  it('the default gzip ratio is close to a measured CloudWatch envelope of sample records', () => {
    const lines = Array.from({ length: DEFAULT_INPUTS.eventsPerEnvelope }, (_, i) => JSON.stringify(sampleAccessLogRecord(i)));
    const envelope = JSON.stringify({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/aws/apigateway/distill-guard',
      logStream: 'a1b2',
      subscriptionFilters: ['f'],
      logEvents: lines.map((message, i) => ({ id: `${37000000000 + i}`, timestamp: 1793577600000 + i, message })),
    });
    const ratio = gzipSync(envelope).length / lines.join('').length;
    expect(ratio).toBeGreaterThan(DEFAULT_INPUTS.gzipRatio * 0.5);
    expect(ratio).toBeLessThan(DEFAULT_INPUTS.gzipRatio * 1.5);
  });
});

describe('cost model', () => {
  const rates = [100, 1000, 10_000, 100_000, 1_000_000];

  it('is monotonic in rps for both paths, in total and in every component', () => {
    for (const path of ['cwl', 'firehose'] as const) {
      let prev = estimateCost({ rps: rates[0]!, path });
      for (const rps of rates.slice(1)) {
        const e = estimateCost({ rps, path });
        expect(e.monthlyUsd).toBeGreaterThan(prev.monthlyUsd);
        for (const l of e.lines) {
          const before = prev.lines.find((p) => p.component === l.component);
          if (before) expect(l.monthlyUsd).toBeGreaterThanOrEqual(before.monthlyUsd - 1e-9);
        }
        prev = e;
      }
    }
  });

  it('components sum to the total, and per-million figures are monthly / requests', () => {
    for (const rps of rates) {
      for (const e of Object.values(comparePaths({ rps, activeAccounts: 50_000 }))) {
        const sum = e.lines.reduce((s, l) => s + l.monthlyUsd, 0);
        expect(e.monthlyUsd).toBeCloseTo(sum, 6);
        const perM = e.lines.reduce((s, l) => s + l.perMillionRequestsUsd, 0);
        expect(e.perMillionRequestsUsd).toBeCloseTo(perM, 9);
        expect(e.perMillionRequestsUsd).toBeCloseTo((e.monthlyUsd / (rps * SECONDS_PER_MONTH)) * 1e6, 9);
        for (const l of e.lines) expect(l.monthlyUsd).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('firehose is cheaper than the CloudWatch Logs path at scale, and pays for it in latency', () => {
    for (const rps of [1000, 10_000, 100_000]) {
      const { cwl, firehose } = comparePaths({ rps });
      expect(firehose.monthlyUsd).toBeLessThan(cwl.monthlyUsd);
      const ingest = (e: typeof cwl) => e.lines.filter((l) => l.stage === 'ingest').reduce((s, l) => s + l.monthlyUsd, 0);
      expect(ingest(firehose)).toBeLessThan(ingest(cwl));
    }
    const slow = comparePaths({ rps: 1000 });
    expect(slow.firehose.sizing.ingestLatencySeconds).toBeGreaterThan(slow.cwl.sizing.ingestLatencySeconds);
  });

  it('CloudWatch Logs ingestion is charged on the bytes of every line; Firehose on 5 KB per record', () => {
    const { cwl, firehose } = comparePaths({ rps: 1000 });
    const req = 1000 * SECONDS_PER_MONTH;
    const cwlLine = cwl.lines.find((l) => l.component.startsWith('CloudWatch Logs ingestion'))!;
    expect(cwlLine.usage).toBeCloseTo(((440 + 26) * req) / 1024 ** 3, 3);
    expect(cwlLine.monthlyUsd).toBeCloseTo(cwlLine.usage * 0.5, 3);
    const fhLine = firehose.lines.find((l) => l.component.startsWith('Firehose ingestion'))!;
    expect(fhLine.usage).toBeCloseTo((5120 * req) / 1024 ** 3, 3);
    // doubling the record size doubles CWL ingestion but leaves Firehose unchanged (still under 5 KB)
    const big = comparePaths({ rps: 1000, recordBytes: 880 });
    expect(big.cwl.lines.find((l) => l.component.startsWith('CloudWatch Logs ingestion'))!.monthlyUsd).toBeCloseTo(
      cwlLine.monthlyUsd * (906 / 466),
      3,
    );
    expect(big.firehose.lines.find((l) => l.component.startsWith('Firehose ingestion'))!.monthlyUsd).toBeCloseTo(fhLine.monthlyUsd, 6);
  });

  it('feature writes are one per distinct account per batch, bounded by events and active accounts', () => {
    const e = estimateCost({ rps: 1000, accountsPerBatch: 100 });
    expect(e.sizing.featureWritesPerSecond).toBeCloseTo(e.sizing.aggregatorInvocationsPerSecond * 100, 9);
    const few = estimateCost({ rps: 1000, activeAccounts: 4, activeHoursPerAccountPerDay: 24 });
    expect(few.sizing.accountsPerBatch).toBeLessThanOrEqual(4);
    expect(expectedDistinctAccounts(1e9, 50)).toBeCloseTo(50, 6);
    expect(expectedDistinctAccounts(1, 1e6)).toBeCloseTo(1, 3);
    // a longer batching window coalesces more events per write
    const w5 = estimateCost({ rps: 1000, activeAccounts: 100_000 });
    const w60 = estimateCost({ rps: 1000, activeAccounts: 100_000, batchingWindowSeconds: 60 });
    expect(w60.sizing.featureWritesPerSecond).toBeLessThan(w5.sizing.featureWritesPerSecond);
  });

  it('a KEYS_ONLY byHour index halves the per-update write units', () => {
    const all = estimateCost({ rps: 10_000, activeAccounts: 100_000, gsiProjection: 'ALL' });
    const keys = estimateCost({ rps: 10_000, activeAccounts: 100_000, gsiProjection: 'KEYS_ONLY' });
    const w = (e: typeof all) => e.lines.find((l) => l.component.startsWith('DynamoDB feature writes'))!.monthlyUsd;
    expect(w(keys)).toBeLessThan(w(all) * 0.55);
  });

  it('INCLUDE_CHANGES (shipped): index writes at most once per 5-minute bucket, scorer reads only changed windows', () => {
    expect(DEFAULT_INPUTS.gsiProjection).toBe('INCLUDE_CHANGES');
    const at = (gsiProjection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE_CHANGES') => estimateCost({ rps: 10_000, activeAccounts: 100_000, gsiProjection });
    const [all, keys, changes] = [at('ALL'), at('KEYS_ONLY'), at('INCLUDE_CHANGES')];
    const w = (e: typeof all) => e.sizing.featureWruPerSecond;
    const r = (e: typeof all) => e.lines.find((l) => l.component.startsWith('DynamoDB scorer reads'))!.monthlyUsd;
    // index rewrites: at least the KEYS_ONLY creation write, at most 12 per window-hour
    expect(w(changes)).toBeGreaterThanOrEqual(w(keys));
    expect(w(changes) - w(keys)).toBeLessThanOrEqual((11 * changes.sizing.accountsActivePerHour) / 3600 + 1e-9);
    expect(w(changes)).toBeLessThan(w(all) * 0.6);
    // reads: KEYS_ONLY BatchGets everything every run; INCLUDE_CHANGES only what changed
    expect(r(keys)).toBeGreaterThan(r(all));
    expect(r(changes)).toBeLessThan(r(all));
    expect(changes.sizing.windowsFetchedPerScorerRun).toBeLessThan(changes.sizing.windowsReadPerScorerRun / 4);
    expect(keys.sizing.windowsFetchedPerScorerRun).toBe(keys.sizing.windowsReadPerScorerRun);
  });

  it('scales workflow, ban-event and review costs with the suspicious-account rate', () => {
    const a = estimateCost({ rps: 1000, activeAccounts: 100_000, suspiciousAccountRatePerDay: 0.001 });
    const b = estimateCost({ rps: 1000, activeAccounts: 100_000, suspiciousAccountRatePerDay: 0.01 });
    for (const name of ['Step Functions transitions', 'EventBridge ban events', 'SQS review queue']) {
      const x = a.lines.find((l) => l.component === name)!.monthlyUsd;
      const y = b.lines.find((l) => l.component === name)!.monthlyUsd;
      expect(y).toBeCloseTo(x * 10, 6);
    }
    const transitions = a.lines.find((l) => l.component === 'Step Functions transitions')!;
    expect(transitions.usage).toBeCloseTo(100_000 * 0.001 * (730 / 24) * 10, 3);
  });

  it('provisioned mode charges shard-hours for enough shards; on-demand charges per GB', () => {
    const p = estimateCost({ rps: 100_000, streamMode: 'PROVISIONED' });
    expect(p.sizing.provisionedShards).toBeGreaterThanOrEqual(p.sizing.shardsNeeded);
    expect(p.sizing.shardsNeeded).toBeGreaterThanOrEqual(Math.ceil(p.sizing.kinesisBytesPerSecond / 1024 ** 2));
    expect(p.lines.some((l) => l.component.startsWith('Kinesis shard-hours'))).toBe(true);
    const od = estimateCost({ rps: 100_000 });
    expect(od.lines.some((l) => l.component === 'Kinesis stream-hours (on-demand)')).toBe(true);
    // the firehose path needs no stream unless usage events are on
    expect(estimateCost({ rps: 1000, path: 'firehose' }).lines.some((l) => l.service === 'Kinesis Data Streams')).toBe(false);
    expect(estimateCost({ rps: 1000, path: 'firehose', usageEvents: true }).lines.some((l) => l.service === 'Kinesis Data Streams')).toBe(true);
  });

  it('rejects bad inputs with a message naming the key and the value', () => {
    expect(() => estimateCost({ rps: 0 })).toThrow("cost input 'rps' must be a positive number, got 0");
    expect(() => estimateCost({ rps: 10, path: 'kafka' as never })).toThrow(/'path'.*"kafka"/);
    expect(() => estimateCost({ rps: 10, firehoseBufferSeconds: 901 })).toThrow(/901/);
  });

  it('renders text and markdown with a total row', () => {
    const e = estimateCost({ rps: 1000 });
    expect(renderText(e)).toMatch(/TOTAL/);
    expect(renderMarkdown(e)).toMatch(/\*\*total\*\*/);
  });
});

describe('sizing', () => {
  it('flags an aggregator that cannot keep up with one lane and recommends a parallelizationFactor that can', () => {
    const e = estimateCost({ rps: 10_000, activeAccounts: 100_000 });
    expect(e.sizing.aggregatorLanes).toBe(e.sizing.shardsNeeded);
    expect(e.sizing.aggregatorKeepsUp).toBe(false);
    const pf = recommendParallelizationFactor({ rps: 10_000, activeAccounts: 100_000 });
    expect(pf).not.toBeNull();
    expect(pf!).toBeGreaterThan(1);
    expect(estimateCost({ rps: 10_000, activeAccounts: 100_000, parallelizationFactor: pf! }).sizing.aggregatorKeepsUp).toBe(true);
    expect(recommendParallelizationFactor({ rps: 1000 })).toBe(1);
    expect(estimateCost({ rps: 10_000, path: 'firehose' }).sizing.aggregatorLanes).toBeNull();
  });
});

describe('features table capacity', () => {
  it('provisioned capacity with auto scaling bills WCU-hours for the write rate over the target utilisation, cheaper at steady load', () => {
    const od = estimateCost({ rps: 10_000, activeAccounts: 100_000 });
    const pr = estimateCost({ rps: 10_000, activeAccounts: 100_000, featuresCapacity: 'PROVISIONED' });
    const line = (e: typeof od) => e.lines.find((l) => l.component.startsWith('DynamoDB feature writes'))!;
    expect(line(pr).usage).toBe(Math.ceil(od.sizing.featureWruPerSecond / 0.7) * 730);
    expect(line(pr).monthlyUsd).toBeCloseTo(ddbCapacityModes(od.sizing.featureWruPerSecond).provisionedUsd, 6);
    expect(line(pr).monthlyUsd).toBeLessThan(line(od).monthlyUsd);
    expect(() => estimateCost({ rps: 1, provisionedUtilization: 0 })).toThrow(/provisionedUtilization/);
  });
});
