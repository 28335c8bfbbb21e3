import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { resolveDetectionConfig, type DeepPartial, type DetectionConfig } from '../../src/detect/config';
import { CONTROL_BY_STATE_INDEX, FEATURES_BY_HOUR_INDEX, PK_PREFIX } from '../../src/shared/tables';
import { checkIntegerSetting, outOfRange } from '../settings';
import { metricAlarm, serviceMetric } from '../shared/alarms';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { DETECT_DEFAULTS } from './defaults';
import { DETECT_SETTINGS } from './settings';
import { ShardedLinkage } from './sharded-linkage';

/** The scorer's POWERTOOLS_SERVICE_NAME: the `service` dimension of its metrics. */
export const SCORER_SERVICE = 'distill-guard-scorer';

export interface ScorerProps {
  /** The features table (AccountWindows, `byHour` GSI, `MODEL#<model>/FIRST`). */
  readonly featuresTable: dynamodb.ITable;
  /** The control table (writes `SCORE#<id>/SCORE`; reads `ACCOUNT#<id>/STATUS`, `ALLOW#<id>`, `CONFIG/SHADOW`, `byState` GSI). */
  readonly controlTable: dynamodb.ITable;
  /** The escalation workflow started for accounts reaching review/suspend (execution name = caseId). */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Time between scorer runs.
   * @default Duration.minutes(5)
   */
  readonly schedule?: Duration;
  /**
   * History each run reads (whole hours).
   * @default Duration.hours(72)
   */
  readonly lookback?: Duration;
  /**
   * Overrides of the detection thresholds (src/detect/config.ts), validated at synth time and passed as
   * DETECTION_CONFIG.
   * @default - the defaults of src/detect/config.ts
   */
  readonly detectionConfig?: DeepPartial<DetectionConfig>;
  /**
   * Scorer memory in MB.
   * @default 1769
   */
  readonly memorySize?: number;
  /**
   * Scorer timeout (must be shorter than the schedule).
   * @default Duration.minutes(4)
   */
  readonly timeout?: Duration;
  /**
   * Name of the features table's hour index.
   * @default 'byHour'
   */
  readonly byHourIndexName?: string;
  /**
   * Name of the control table's state index.
   * @default 'byState'
   */
  readonly byStateIndexName?: string;
  /**
   * How long the scorer reuses a window read in an earlier run (same warm execution environment) while the features
   * index's change marker shows it unchanged; needs the `INCLUDE_CHANGES` projection to have any effect. Reuse saves
   * the BatchGetItem reads and the profile rebuild of unchanged accounts. Duration.minutes(0) turns it off.
   * @default Duration.hours(6)
   */
  readonly windowCacheMaxAge?: Duration;
  /**
   * Active accounts from which detection does not run in the scorer's process but as a distributed run over account
   * shards (the run's state machine of Distributed Maps), which invokes the scorer at its end to sum up.
   * @default 1000000
   */
  readonly shardedLinkageMinAccounts?: number;
  /**
   * Accounts per account shard of a distributed detection run (1..10000000): each child's memory grows with it.
   * @default 250000
   */
  readonly accountsPerShard?: number;
  /**
   * Stage children of one of the linkage state machine's Distributed Maps running at once (1..10000).
   * @default 40
   */
  readonly linkageMaxConcurrency?: number;
  /**
   * Customer-managed key of the linkage bucket and state machine.
   * @default - the stack's key (lib/shared/stack-key.ts)
   */
  readonly linkageEncryptionKey?: kms.IKey;
}

/**
 * The scheduled scorer: an EventBridge schedule runs one function that reads the last `lookback` of feature
 * windows, links accounts across the whole active population, scores them, writes SCORE items and starts the
 * escalation workflow. One run at a time (reserved concurrency 1): runs never overlap. From
 * `shardedLinkageMinAccounts` active accounts on, detection runs distributed over account shards in the run's state
 * machine (`linkage`, lib/detect/sharded-linkage.ts: `shardFunction` reads and decides, the stage function links and
 * reduces), whose last step invokes this function to sum the run up (docs/detection.md, "Two paths: in process, or
 * distributed").
 */
export class Scorer extends Construct {
  readonly function: DistillGuardFunction;
  /** A distributed run's children that read an account shard's windows, and decide and write its scores. */
  readonly shardFunction: DistillGuardFunction;
  readonly rule: events.Rule;
  /** The distributed detection run: bucket, stage function, state machine. */
  readonly linkage: ShardedLinkage;
  /** Memory and duration utilization of the scorer, and the linkage state machine's failed and timed-out runs. */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ScorerProps) {
    super(scope, id);
    const checked = checkScorerProps(props);
    const environment = {
      FEATURES_TABLE: props.featuresTable.tableName,
      CONTROL_TABLE: props.controlTable.tableName,
      STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
      DETECTION_CONFIG: JSON.stringify(props.detectionConfig ?? {}),
      BY_HOUR_INDEX: props.byHourIndexName ?? FEATURES_BY_HOUR_INDEX,
      BY_STATE_INDEX: props.byStateIndexName ?? CONTROL_BY_STATE_INDEX,
    };
    this.function = new DistillGuardFunction(this, 'Function', {
      entry: 'lambdas/detect/scorer.ts',
      serviceName: SCORER_SERVICE,
      description: 'distill-guard scorer: features -> linkage, pivot, scoring -> SCORE items and escalation workflows',
      memorySize: props.memorySize ?? DETECT_DEFAULTS.memorySize,
      timeout: checked.timeout,
      reservedConcurrentExecutions: 1,
      environment: {
        ...environment,
        LOOKBACK_HOURS: String(checked.lookbackHours),
        WINDOW_CACHE_MAX_AGE_MINUTES: String(
          Math.round((props.windowCacheMaxAge ?? DETECT_DEFAULTS.windowCacheMaxAge).toMinutes({ integral: false })),
        ),
        SHARDED_LINKAGE_MIN_ACCOUNTS: String(checked.minAccounts),
        ACCOUNTS_PER_SHARD: String(checked.accountsPerShard),
      },
    });
    // A distributed run's children that read windows and decide: the scorer's work on one account shard.
    this.shardFunction = new DistillGuardFunction(this, 'ShardFunction', {
      entry: 'lambdas/detect/score-shard.ts',
      serviceName: `${SCORER_SERVICE}-shard`,
      description: 'distill-guard detection run: profiles of one account shard (reads windows), or its decisions (writes scores, starts cases)',
      memorySize: DETECT_DEFAULTS.linkageStageMemorySize,
      timeout: DETECT_DEFAULTS.linkageStageTimeout,
      environment,
    });
    this.linkage = new ShardedLinkage(this, 'Linkage', {
      scorerFunction: this.function,
      shardFunction: this.shardFunction,
      detectionConfigJson: JSON.stringify(props.detectionConfig ?? {}),
      encryptionKey: props.linkageEncryptionKey,
      maxConcurrency: props.linkageMaxConcurrency,
    });
    for (const fn of [this.function, this.shardFunction]) {
      fn.addEnvironment('LINKAGE_BUCKET', this.linkage.bucket.bucketName);
      fn.addEnvironment('LINKAGE_KEY_ARN', this.linkage.encryptionKey.keyArn);
      this.grantScoring(fn, props);
    }
    this.function.addEnvironment('LINKAGE_STATE_MACHINE_ARN', this.linkage.stateMachineArn);
    this.linkage.grantRunControl(this.function);
    this.linkage.grantRecords(this.shardFunction);
    this.alarms = [...this.utilizationAlarms(), ...this.linkage.alarms];
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'distill-guard scorer schedule',
      schedule: events.Schedule.rate(checked.schedule),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 1, maxEventAge: checked.schedule })],
    });
  }

  /**
   * Least privilege for a function that scores: features table read (Query on the byHour GSI, BatchGetItem of windows
   * and MODEL# items); control table read (STATUS, CONFIG/SHADOW, the ALLOW partition of byState) plus UpdateItem on
   * the SCORE# partitions only. Scores live apart from ACCOUNT#<id>/STATUS, so no scorer bug can suspend or reinstate
   * anyone. And starting the escalation workflow.
   */
  private grantScoring(fn: DistillGuardFunction, props: ScorerProps): void {
    props.featuresTable.grantReadData(fn);
    props.controlTable.grantReadData(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteScoresOnly',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.controlTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${PK_PREFIX.score}*`] } },
      }),
    );
    props.controlTable.encryptionKey?.grantEncryptDecrypt(fn);
    props.stateMachine.grantStartExecution(fn);
  }

  /**
   * The scorer's memory and duration utilization (its own metrics, percent of the limit, Maximum over 5 minutes):
   * above these the next growth of the population can stop it, so the alarm comes well before.
   */
  private utilizationAlarms(): cloudwatch.Alarm[] {
    const metric = (name: string) => serviceMetric(SCORER_SERVICE, name, 'Maximum');
    return [
      metricAlarm(this, 'MemoryUtilizationAlarm', {
        alarmDescription: `Scorer peak memory above ${DETECT_DEFAULTS.memoryAlarmPercent}% of its limit: lower shardedLinkageMinAccounts or raise scorerMemoryMb (docs/detection.md).`,
        metric: metric('MemoryUtilizationPercent'),
        threshold: DETECT_DEFAULTS.memoryAlarmPercent,
      }),
      metricAlarm(this, 'DurationUtilizationAlarm', {
        alarmDescription: `Scorer run above ${DETECT_DEFAULTS.durationAlarmPercent}% of its timeout: lower shardedLinkageMinAccounts (docs/detection.md).`,
        metric: metric('DurationUtilizationPercent'),
        threshold: DETECT_DEFAULTS.durationAlarmPercent,
      }),
    ];
  }
}

/** The props' values with their defaults, checked: errors show the value received. */
function checkScorerProps(props: ScorerProps) {
  const schedule = props.schedule ?? DETECT_DEFAULTS.schedule;
  const timeout = props.timeout ?? DETECT_DEFAULTS.timeout;
  const lookback = props.lookback ?? DETECT_DEFAULTS.lookback;
  const { scoreIntervalMinutes: interval, scoreLookbackHours: lookbackRange } = DETECT_SETTINGS;
  if (schedule.toSeconds() < interval.min * 60) {
    throw new Error(`scorer schedule must be at least ${interval.min} minute, got ${schedule.toHumanString()}`);
  }
  if (timeout.toSeconds() > schedule.toSeconds()) {
    throw new Error(`scorer timeout (${timeout.toHumanString()}) must not exceed the schedule (${schedule.toHumanString()})`);
  }
  const lookbackHours = Math.round(lookback.toHours({ integral: false }));
  if (outOfRange(lookbackRange, lookbackHours)) {
    throw new Error(`scorer lookback must be between ${lookbackRange.min} and ${lookbackRange.max} hours, got ${lookback.toHumanString()}`);
  }
  const minAccounts = props.shardedLinkageMinAccounts ?? DETECT_DEFAULTS.shardedLinkageMinAccounts;
  checkIntegerSetting('shardedLinkageMinAccounts', minAccounts, DETECT_SETTINGS.shardedLinkageMinAccounts);
  const accountsPerShard = props.accountsPerShard ?? DETECT_SETTINGS.detectionShardAccounts.default;
  checkIntegerSetting('accountsPerShard', accountsPerShard, DETECT_SETTINGS.detectionShardAccounts);
  // Validate overrides now (unknown keys, wrong types fail the synth, not the first run).
  resolveDetectionConfig(props.detectionConfig ?? {});
  return { schedule, timeout, lookbackHours, minAccounts, accountsPerShard };
}
