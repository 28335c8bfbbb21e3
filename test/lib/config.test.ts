/**
 * lib/config.ts: every tunable is a typed key with a default, overridable from the `distill-guard` context;
 * bad values fail synth with a lowercase error showing the value received; overrides reach the template.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CONFIG_SPEC, configMarkdown, describeConfig, resolveConfig } from '../../lib/config';
import { AGGREGATE_SETTINGS } from '../../lib/aggregate/settings';
import { DETECT_SETTINGS } from '../../lib/detect/settings';
import { ESCALATE_SETTINGS } from '../../lib/escalate/settings';
import { DEMO_API_SETTINGS, FIREHOSE_SETTINGS, INGEST_SETTINGS } from '../../lib/ingest/settings';
import { NOTIFY_SETTINGS } from '../../lib/notify/settings';
import { OBSERVABILITY_SETTINGS } from '../../lib/observability/settings';
import type { Setting } from '../../lib/settings';
import { SHARE_SETTINGS } from '../../lib/share/settings';
import { DEFAULT_CONFIG } from '../../lib/defaults';
import { resourcesOf, synthStack } from './support';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import { DistillGuard } from '../../lib/distill-guard';

describe('resolveConfig', () => {
  test('defaults cover every key of the spec, and pass their own validation', () => {
    const cfg = resolveConfig();
    for (const key of Object.keys(CONFIG_SPEC)) {
      if (!CONFIG_SPEC[key as keyof typeof CONFIG_SPEC].optional) expect(cfg).toHaveProperty(key);
    }
    expect(Object.keys(DEFAULT_CONFIG).sort()).toEqual(Object.keys(CONFIG_SPEC).sort());
    expect(cfg.streamMode).toBe('ON_DEMAND');
    expect(cfg.demoApi).toBe(true);
  });

  test('later layers win; undefined means "not set"', () => {
    const cfg = resolveConfig({ shardCount: 3, reviewTimeoutHours: 2 }, { shardCount: 5, reviewTimeoutHours: undefined });
    expect(cfg.shardCount).toBe(5);
    expect(cfg.reviewTimeoutHours).toBe(2);
  });

  test.each([
    [{ shardCount: 'four' }, /^distill-guard config 'shardCount' must be a number, got "four"$/],
    [{ shardCount: 2.5 }, /'shardCount' must be an integer, got 2.5/],
    [{ shardCount: 0 }, /'shardCount' must be between 1 and 500, got 0/],
    [{ streamMode: 'on_demand' }, /'streamMode' must be one of "ON_DEMAND", "PROVISIONED", got "on_demand"/],
    [{ accessLogRetentionDays: 8 }, /'accessLogRetentionDays' must be one of .*, got 8/],
    [{ demoApi: 'yes' }, /'demoApi' must be true or false, got "yes"/],
    [{ consumerAccountIds: ['1234'] }, /'consumerAccountIds' must be a list of 12-digit aws account ids.*\["1234"\]/],
    [{ consumerAccountIds: [111122223333] }, /'consumerAccountIds' must be a list of 12-digit.*\[111122223333\]/],
    [{ organizationId: 'org-1' }, /'organizationId' must match .*, got "org-1"/],
    [{ breakerMaxShare: 1.5 }, /'breakerMaxShare' must be between 0 and 1, got 1.5/],
    [{ existingRestApiId: 'a1b2c3d4e5' }, /'existingRestApiId' and 'existingStageName' go together.*"a1b2c3d4e5".*undefined/],
    [{ banBaseHours: 48, banMaxDays: 1 }, /'banMaxDays' must cover 'banBaseHours', got banBaseHours 48 and banMaxDays 1/],
    [{ detectionConfig: { decisions: { suspendScore: 'high' } } }, /'detectionConfig' is invalid: .*suspendScore.*"high"/],
    [{ detectionConfig: { nope: 1 } }, /'detectionConfig' is invalid: unknown detection config key 'nope'/],
    [{ shardCnt: 4 }, /^unknown distill-guard config key 'shardCnt' \(got 4\); known keys: .*shardCount/],
  ])('rejects %j', (override, message) => {
    expect(() => resolveConfig(override as Record<string, unknown>)).toThrow(message);
  });

  test('error messages are lowercase at the start', () => {
    try {
      resolveConfig({ demoApi: 1 });
      throw new Error('no error');
    } catch (err) {
      expect((err as Error).message[0]).toBe((err as Error).message[0].toLowerCase());
    }
  });
});

describe('context overrides reach the template', () => {
  const { template, stack } = synthStack({
    context: {
      streamMode: 'PROVISIONED',
      shardCount: 4,
      streamRetentionHours: 72,
      accessLogRetentionDays: 30,
      aggregatorBatchSize: 500,
      aggregatorMaxRecordAgeSeconds: 3600,
      aggregatorRetryAttempts: 2,
      featuresRetentionDays: 14,
      reviewTimeoutHours: 2,
      archiveRetentionDays: 30,
      consumerAccountIds: ['444455556666'],
      iteratorAgeAlarmSeconds: 60,
      demoThrottleRateLimit: 10,
      demoThrottleBurstLimit: 20,
      demoAuthorizerCacheTtlSeconds: 30,
      dataRemovalPolicy: 'destroy',
      scoreIntervalMinutes: 2,
      scoreLookbackHours: 48,
      detectionConfig: { decisions: { suspendScore: 0.97 } },
    },
  });

  test('scorer schedule, timeout capped to it, lookback and detection overrides', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    const scorer = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => /GuardScorerFunction/.test(id))![1];
    expect(scorer.Properties.Timeout).toBe(120);
    expect(scorer.Properties.Environment.Variables.LOOKBACK_HOURS).toBe('48');
    expect(JSON.parse(scorer.Properties.Environment.Variables.DETECTION_CONFIG)).toEqual({ decisions: { suspendScore: 0.97 } });
  });

  test('stream mode, shards, retention', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: 4,
      RetentionPeriodHours: 72,
    });
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup').filter(([id]) => /IngestionAccessLogs/.test(id));
    expect(groups[0][1].Properties.RetentionInDays).toBe(30);
  });

  test('aggregator mapping and feature retention', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 500, MaximumRecordAgeInSeconds: 3600, MaximumRetryAttempts: 2 });
    const agg = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => /AggregatorFunction/.test(id))![1];
    expect(agg.Properties.Environment.Variables.FEATURE_RETENTION_DAYS).toBe('14');
  });

  test('review deadline in the workflow definition', () => {
    const [, sm] = resourcesOf(template, 'AWS::StepFunctions::StateMachine')[0];
    expect(JSON.stringify(sm.Properties.DefinitionString)).toMatch(/"TimeoutSeconds\\?":7200/);
  });

  test('archive retention and consumer accounts in the bus policy', () => {
    template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
    expect(JSON.stringify(template.findResources('AWS::Events::EventBusPolicy'))).toContain('444455556666');
  });

  test('alarm threshold, demo usage plan and authorizer cache', () => {
    const iterator = resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(([id]) => /AggregatorIteratorAge/.test(id));
    expect(iterator[0][1].Properties.Threshold).toBe(60000);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 10, BurstLimit: 20 } });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { AuthorizerResultTtlInSeconds: 30 });
  });

  test('data removal policy applies to the tables', () => {
    for (const [, t] of resourcesOf(template, 'AWS::DynamoDB::Table')) expect(t.DeletionPolicy).toBe('Delete');
  });

  test('the resolved config is exposed on the construct', () => {
    expect(stack.guard.config.shardCount).toBe(4);
  });
});

describe('other ways in', () => {
  test('demoApi false + existing stage: no demo API, an UpdateStage custom resource instead', () => {
    const { template } = synthStack({ context: { demoApi: false, existingRestApiId: 'a1b2c3d4e5', existingStageName: 'prod' } });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('Custom::DistillGuardStageAccessLog', 1);
    // no demo API, so the account-level API Gateway role is created by the attachment
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('demo API and an existing stage together: exactly one AWS::ApiGateway::Account', () => {
    const { template } = synthStack({ context: { existingRestApiId: 'a1b2c3d4e5', existingStageName: 'prod' } });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('Custom::DistillGuardStageAccessLog', 1);
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('context as a JSON string (cdk -c distill-guard=...), and props in code beat context', () => {
    const { stack } = synthStack({ context: '{"shardCount": 7, "streamMode": "PROVISIONED"}' as never, props: { shardCount: 9 } });
    expect(stack.guard.config.shardCount).toBe(9);
    expect(stack.guard.config.streamMode).toBe('PROVISIONED');
  });

  test('a bad context value fails synth with the value', () => {
    expect(() => synthStack({ context: { streamRetentionHours: 12 } })).toThrow(/'streamRetentionHours' must be between 24 and 8760, got 12/);
  });
});

test('docs/deploy.md documents every key with its default', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/deploy.md'), 'utf8');
  for (const row of describeConfig()) {
    expect(doc).toContain(`\`${row.key}\``);
    expect(doc).toContain(`| \`${row.key}\` | ${row.type} | ${row.default === '(none)' ? '(none)' : '`' + row.default + '`'} |`);
  }
});

test("DistillGuard in the user's own app: attachStage configures their Stage in the template", () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'UserApp');
  const api = new apigateway.RestApi(stack, 'TheirApi', { cloudWatchRole: false });
  api.root.addMethod('GET', new apigateway.MockIntegration());
  const guard = new DistillGuard(stack, 'Guard', { shadowMode: true });
  expect(guard.attachStage(api.deploymentStage).mode).toBe('template');
  const t = Template.fromStack(stack);
  const stage = Object.values(t.findResources('AWS::ApiGateway::Stage'))[0] as any;
  expect(Object.keys(JSON.parse(stage.Properties.AccessLogSetting.Format))).toContain('accountCreatedAt');
  expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toContain('GuardIngestionAccessLogs');
  t.resourceCountIs('AWS::ApiGateway::RestApi', 1); // theirs only: DistillGuard brings no API of its own
});

describe('the settings tables are the one copy', () => {
  const read = (file: string) => fs.readFileSync(path.join(__dirname, '../..', file), 'utf8');
  /** The `@default` of each `readonly <name>` of `source`, by name. */
  const jsdocDefaults = (source: string) =>
    new Map([...source.matchAll(/@default ([^\n]*?)(?:\s*\*\/)?\n(?:\s*\*\/\n)?\s*readonly (\w+)\??:/g)].map((m) => [m[2], m[1].trim()] as const));
  /** A `@default` text as a value (durations in seconds); `undefined` for "none". */
  const parseDefault = (text: string): unknown => {
    if (/^(-|none)/.test(text)) return undefined;
    const duration = /^Duration\.(seconds|minutes|hours|days)\(([\d.]+)\)/.exec(text);
    if (duration) return Duration[duration[1] as 'seconds'](Number(duration[2])).toSeconds();
    const retention = /^logs\.RetentionDays\.(\w+)$/.exec(text);
    if (retention) return logs.RetentionDays[retention[1] as 'ONE_WEEK'];
    return JSON.parse(text.split(' (')[0].replace(/'/g, '"'));
  };
  /** "none" matches an absent, empty-list or empty-object default. */
  const expectDefault = (documented: unknown, actual: unknown, what: string) => {
    if (documented === undefined && (actual === undefined || JSON.stringify(actual) === '[]' || JSON.stringify(actual) === '{}')) return;
    expect({ what, value: actual }).toEqual({ what, value: documented });
  };

  test('the settings modules load no aws-cdk-lib (Lambda handlers import them)', () => {
    const files = ['lib/settings.ts', ...fs.readdirSync(path.join(__dirname, '../../lib')).map((d) => `lib/${d}/settings.ts`)];
    for (const file of files.filter((f) => fs.existsSync(path.join(__dirname, '../..', f)))) {
      expect({ file, imports: read(file).match(/^import (?!type ).*from '(aws-cdk-lib|constructs|[./]+config)[^']*';$/gm) }).toEqual({
        file,
        imports: null,
      });
    }
  });

  test('docs/deploy.md holds the generated configuration table', () => {
    expect(read('docs/deploy.md')).toContain(configMarkdown());
  });

  test("every key's default is the @default of its DistillGuardConfig JSDoc", () => {
    const documented = jsdocDefaults(read('lib/config.ts'));
    expect([...documented.keys()].sort()).toEqual(Object.keys(CONFIG_SPEC).sort());
    for (const [key, setting] of Object.entries(CONFIG_SPEC)) expectDefault(parseDefault(documented.get(key)!), setting.default, key);
  });

  test.each([
    ['lib/detect/scorer.ts', DETECT_SETTINGS],
    ['lib/aggregate/aggregator.ts lib/aggregate/ip-hash-key.ts', AGGREGATE_SETTINGS],
    ['lib/ingest/ingestion-stream.ts', INGEST_SETTINGS],
    ['lib/ingest/firehose-access-logs.ts', FIREHOSE_SETTINGS],
    ['lib/ingest/demo-api.ts', DEMO_API_SETTINGS],
    ['lib/escalate/escalation.ts', ESCALATE_SETTINGS],
    ['lib/notify/ban-events.ts', NOTIFY_SETTINGS],
    ['lib/observability/monitoring.ts', OBSERVABILITY_SETTINGS],
    ['lib/share/indicator-sharing.ts', SHARE_SETTINGS],
  ] as Array<[string, Record<string, Omit<Setting, 'group'>>]>)(
    "every construct prop a key of %s's table sets documents the key's default",
    (file, table) => {
      const documented = jsdocDefaults(file.split(' ').map(read).join('\n'));
      for (const [key, setting] of Object.entries(table)) {
        if (setting.prop === undefined) continue;
        expect({ key, prop: setting.prop, documented: documented.has(setting.prop) }).toEqual({ key, prop: setting.prop, documented: true });
        const value = setting.unit ? Duration[setting.unit](setting.default as number).toSeconds() : setting.default;
        expectDefault(parseDefault(documented.get(setting.prop)!), value, `${file} ${setting.prop}`);
      }
    },
  );
});
