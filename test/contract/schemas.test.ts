/**
 * The schemas in schemas/ describe what the system really writes and reads: the samples, the simulator's output,
 * the access-log format synthesized into the template and every emitted ban event validate against them, and
 * every field the contract names stays in its schema (fields are additive only).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import { AccessLogIngestion } from '../../lib/ingest/access-log-ingestion';
import { IngestionStream } from '../../lib/ingest/ingestion-stream';
import {
  CONTRACT_SCHEMAS,
  validateAccessLogRecord,
  validateReplayReport,
  validateUsageEvent,
  type ValidationResult,
} from '../../src/contract/schemas';
import { CONTRACT_FIELDS } from '../../src/contract/doc';
import { buildBanEvent, DETAIL_TYPES } from '../../src/notify/ban-event';
import { validateBanEventDetail, validateEventBridgeEvent } from '../../src/notify/schemas';
import { logLine, simulate, usageLine } from '../../sim/simulate';
import { sampleFields } from '../notify/fixtures';
import type * as Generated from '../../src/contract';
import * as contractEntry from '../../src/contract';
import type * as Internal from '../../src/shared/contract';

// Compile time (tsc runs on tests): what the code builds is assignable to the types generated from the schemas.
type Plain<T> = { [K in keyof T]: T[K] }; // an interface has no implicit index signature; a mapped type does
type Assignable<A extends B, B> = A extends B ? true : never;
export const typesAgree: [
  Assignable<Plain<Internal.AccessLogRecord>, Generated.AccessLogRecord>,
  Assignable<Plain<Internal.UsageEvent>, Generated.UsageEvent>,
  Assignable<Internal.ReplayReport, Generated.ReplayReport>,
] = [true, true, true];

const ROOT = path.join(__dirname, '..', '..');
const accessLogSchema = CONTRACT_SCHEMAS.find((s) => s.file === 'access-log-record.json')!.schema as {
  required: string[];
  properties: Record<string, { 'x-context-variable': string }>;
};

function validatorFor(file: string): (v: unknown) => ValidationResult {
  if (file === 'access-log-record.json') return validateAccessLogRecord;
  if (file === 'usage-event.json') return validateUsageEvent;
  if (file === 'replay-report.json') return validateReplayReport;
  return validateEventBridgeEvent;
}

describe('schemas/examples', () => {
  it('has one sample per schema, and each is valid against its schema', () => {
    expect(fs.readdirSync(path.join(ROOT, 'schemas', 'examples')).sort()).toEqual(CONTRACT_SCHEMAS.map((s) => s.file).sort());
    for (const { file } of CONTRACT_SCHEMAS) {
      const sample = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'examples', file), 'utf8'));
      expect({ file, ...validatorFor(file)(sample) }).toEqual({ file, valid: true, errors: [] });
    }
  });

  it('the validators reject what the schemas forbid, naming the field', () => {
    const log = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'examples', 'access-log-record.json'), 'utf8'));
    const { status: _s, ...noStatus } = log;
    expect(validateAccessLogRecord(noStatus).errors.join()).toMatch(/status/);
    expect(validateAccessLogRecord({ ...log, requestTimeEpoch: 1793577609119 }).errors.join()).toMatch(/requestTimeEpoch must be string/);
    const usage = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'examples', 'usage-event.json'), 'utf8'));
    expect(validateUsageEvent({ ...usage, promptClass: 'poetry' }).errors.join()).toMatch(/promptClass/);
    expect(validateUsageEvent({ ...usage, timestamp: '1793577609119' }).valid).toBe(false);
  });
});

describe('the contract fields (additive only)', () => {
  it.each(Object.entries(CONTRACT_FIELDS))('%s keeps every field the contract names, required', (where, fields) => {
    const targets =
      where === 'ban-event-detail'
        ? CONTRACT_SCHEMAS.filter((s) => s.section === 4).map((s) => Object.values(s.schema.definitions as Record<string, unknown>)[0])
        : [
            where
              .split('#')[1]
              ?.split('/')
              .filter(Boolean)
              .reduce((n: any, k) => n[k], CONTRACT_SCHEMAS.find((s) => s.file === where.split('#')[0])!.schema) ??
              CONTRACT_SCHEMAS.find((s) => s.file === where)!.schema,
          ];
    for (const t of targets as Array<{ required: string[]; properties: Record<string, unknown> }>) {
      for (const f of fields) {
        expect({ f, inSchema: f in t.properties, required: t.required.includes(f) }).toEqual({ f, inSchema: true, required: true });
      }
    }
  });

  it('ban events require the ordering field consumers are told to use (detail.decidedAtMs)', () => {
    const events = fs.readFileSync(path.join(ROOT, 'docs', 'events.md'), 'utf8');
    expect(events).toMatch(/Order by `detail\.decidedAtMs`/);
    for (const dt of DETAIL_TYPES) {
      const { decidedAtMs: _ms, ...detail } = buildBanEvent(dt, sampleFields(dt)).detail;
      expect(validateBanEventDetail(dt, detail).errors).toEqual(["/ must have required property 'decidedAtMs'"]);
    }
  });

  it('every emitted ban event carries decidedAtMs (the instant of decidedAt) and matches its schema', () => {
    for (const dt of DETAIL_TYPES) {
      const ev = buildBanEvent(dt, sampleFields(dt));
      expect(ev.detail.decidedAtMs).toBe(Date.parse(ev.detail.decidedAt));
      expect(validateBanEventDetail(dt, ev.detail)).toEqual({ valid: true, errors: [] });
    }
  });
});

describe('the access-log record schema and the synthesized access-log format', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const ingestion = new IngestionStream(stack, 'Ingestion');
  const api = new apigateway.RestApi(stack, 'UserApi', { cloudWatchRole: false });
  api.root.addMethod('GET', new apigateway.MockIntegration());
  new AccessLogIngestion(stack, 'Attach', { logGroup: ingestion.accessLogGroup, stage: api.deploymentStage });
  const stage = Object.values(Template.fromStack(stack).findResources('AWS::ApiGateway::Stage'))[0] as {
    Properties: { AccessLogSetting: { Format: string } };
  };
  const format = stage.Properties.AccessLogSetting.Format;

  it('has exactly the schema keys, in order, each filled from the $context variable the schema names', () => {
    const parsed = JSON.parse(format) as Record<string, string>;
    expect(Object.keys(parsed)).toEqual(Object.keys(accessLogSchema.properties));
    expect(Object.keys(parsed)).toEqual(accessLogSchema.required);
    for (const [k, v] of Object.entries(parsed)) expect({ k, v }).toEqual({ k, v: accessLogSchema.properties[k]['x-context-variable'] });
  });

  it('what API Gateway writes with it (variables substituted, `-` where missing) is valid', () => {
    const sample = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'examples', 'access-log-record.json'), 'utf8')) as Record<string, string>;
    const byVariable = Object.fromEntries(Object.entries(accessLogSchema.properties).map(([k, p]) => [p['x-context-variable'], sample[k]]));
    const written = format.replace(/\$context\.[A-Za-z.]+/g, (v) => byVariable[v]);
    expect(validateAccessLogRecord(JSON.parse(written))).toEqual({ valid: true, errors: [] });
    const missing = format
      .replace(/\$context\.(identity\.apiKeyId|responseLength|integrationLatency|authorizer\.accountCreatedAt)/g, '-')
      .replace(/\$context\.[A-Za-z.]+/g, (v) => byVariable[v]);
    expect(validateAccessLogRecord(JSON.parse(missing))).toEqual({ valid: true, errors: [] });
  });
});

describe("the simulator's output", () => {
  it.each([['base'], ['evasive']] as const)('every access-log line and usage line of a %s world is valid', (variant) => {
    let logs = 0;
    let usage = 0;
    const bad: string[] = [];
    for (const e of simulate({ seed: 7, scale: 'small', variant, days: 1, organic: 40 }).events()) {
      logs++;
      const l = validateAccessLogRecord(JSON.parse(logLine(e.log)));
      if (!l.valid && bad.length < 5) bad.push(`${logLine(e.log)}: ${l.errors.join('; ')}`);
      if (e.usage) {
        usage++;
        const u = validateUsageEvent(JSON.parse(usageLine(e.usage)));
        if (!u.valid && bad.length < 5) bad.push(`${usageLine(e.usage)}: ${u.errors.join('; ')}`);
      }
    }
    expect(bad).toEqual([]);
    expect(logs).toBeGreaterThan(1000);
    expect(usage).toBeGreaterThan(500);
  });
});

describe('src/contract (what the package entry re-exports)', () => {
  it('exports a validator for every format, and typed samples type-check', () => {
    for (const fn of [
      'validateAccessLogRecord',
      'validateUsageEvent',
      'validateReplayReport',
      'validateEventBridgeEvent',
      'validateBanEventDetail',
    ] as const) {
      expect(typeof contractEntry[fn]).toBe('function');
    }
    const ev: Generated.BanEventMessage = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'examples', 'account-suspended.json'), 'utf8'));
    if (ev['detail-type'] === 'Account Suspended') expect(ev.detail.suspendedUntil).toBe('2026-11-09T01:40:00.000Z');
    expect(contractEntry.validateEventBridgeEvent(ev).valid).toBe(true);
  });
});

describe('docs/contract.md', () => {
  it('names every field of every schema', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'contract.md'), 'utf8');
    const names = new Set<string>();
    const walk = (n: unknown): void => {
      if (!n || typeof n !== 'object') return;
      const props = (n as { properties?: Record<string, unknown> }).properties;
      if (props)
        for (const [k, v] of Object.entries(props)) {
          names.add(k);
          walk(v);
        }
      for (const v of Object.values(n as Record<string, unknown>)) if (v && typeof v === 'object') walk(v);
    };
    for (const s of CONTRACT_SCHEMAS) walk(s.schema.definitions ?? s.schema);
    for (const s of CONTRACT_SCHEMAS.filter((c) => c.section < 4)) walk(s.schema);
    const missing = [...names].filter((n) => !doc.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });
});
