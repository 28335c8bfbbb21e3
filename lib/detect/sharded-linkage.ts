/**
 * The distributed detection run (docs/detection.md, "Past one process"): a bucket for the stages' records, the
 * `linkage-stage` function, and a Standard state machine that runs every stage over account shards or key
 * partitions as Distributed Maps (Express children): the given shard function reads the windows and builds the
 * profiles, the stage function partitions, links, merges and reduces, the shard function decides and writes; the last
 * step invokes the scorer with the plan, to sum the run up.
 *
 * The state machine has an explicit name, and the scorer reaches it by the ARN built from that name: the machine
 * invokes the scorer and the scorer starts the machine, so a `Ref` either way would be a dependency cycle. The name
 * also lets the L2 encryption grant the role the key under a condition naming this state machine.
 */
import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { LINKAGE_RUN_PREFIX, LINKAGE_STATE_PREFIX } from '../../src/detect/linkage-bucket';
import { checkIntegerProp } from '../settings';
import { ALARM_PERIOD, metricAlarm } from '../shared/alarms';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { stackKey } from '../shared/stack-key';
import { WORKFLOW_KEY_ACTIONS } from '../escalate/state-machine';
import { DETECT_DEFAULTS } from './defaults';

export interface ShardedLinkageProps {
  /** The scorer: the state machine's last step invokes it with `{ time, sharded: { plan } }`. */
  readonly scorerFunction: lambda.IFunction;
  /** The children that read the windows (`profiles`) and decide and write (`decide`), one account shard each. */
  readonly shardFunction: lambda.IFunction;
  /** DETECTION_CONFIG of the scorer (the stages read its `linkage` part). */
  readonly detectionConfigJson: string;
  /**
   * Customer-managed key of the bucket, the state machine's data and its log group.
   * @default - the stack's key (lib/shared/stack-key.ts)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Stage children of one Distributed Map running at once (1..10000).
   * @default 40
   */
  readonly maxConcurrency?: number;
  /**
   * Memory of the `linkage-stage` function in MB.
   * @default 3008
   */
  readonly stageMemorySize?: number;
  /**
   * Timeout of the `linkage-stage` function: at most 4 minutes, inside the 5 minutes of an Express child.
   * @default Duration.minutes(4)
   */
  readonly stageTimeout?: Duration;
  /**
   * Days the records of a run are kept (bucket lifecycle, 1..7): a run needs them for minutes.
   * @default Duration.days(1)
   */
  readonly recordExpiration?: Duration;
  /**
   * Longest run of the state machine.
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
}

/** Where later states find the plan with positions: the offsets step's result. */
const PLAN_PATH = '$.offsets.plan';

/** A Lambda task whose throttles are retried (Distributed Map children start in bursts). */
function invoke(scope: Construct, id: string, fn: lambda.IFunction, opts: Partial<tasks.LambdaInvokeProps> = {}): sfn.TaskStateBase {
  return new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, payloadResponseOnly: true, ...opts }).addRetry({
    errors: ['Lambda.TooManyRequestsException'],
    interval: Duration.seconds(2),
    maxAttempts: 5,
    backoffRate: 2,
  });
}

export class ShardedLinkage extends Construct {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.IKey;
  readonly stageFunction: DistillGuardFunction;
  readonly stateMachine: sfn.StateMachine;
  /** Its ARN built from its name (no reference to the resource: see the module comment). */
  readonly stateMachineArn: string;
  /** Executions failed, executions timed out. */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ShardedLinkageProps) {
    super(scope, id);
    const d = DETECT_DEFAULTS;
    const maxConcurrency = props.maxConcurrency ?? d.linkageMaxConcurrency;
    checkIntegerProp('maxConcurrency', maxConcurrency, 1, 10000);
    const stageTimeout = props.stageTimeout ?? d.linkageStageTimeout;
    if (stageTimeout.toSeconds() > 240) throw new Error(`stageTimeout must be at most 4 minutes, got ${stageTimeout.toHumanString()}`);
    const days = (props.recordExpiration ?? d.linkageRecordExpiration).toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1 || days > 7) throw new Error(`recordExpiration must be a whole number of days in 1..7, got ${days} days`);
    this.encryptionKey = props.encryptionKey ?? stackKey(this);
    this.bucket = this.recordBucket(Duration.days(days));
    this.stageFunction = new DistillGuardFunction(this, 'StageFn', {
      entry: 'lambdas/detect/linkage-stage.ts',
      serviceName: 'distill-guard-linkage',
      description: 'distill-guard detection run: one stage child or step that reads and writes only the run records',
      memorySize: props.stageMemorySize ?? d.linkageStageMemorySize,
      timeout: stageTimeout,
      environment: {
        LINKAGE_BUCKET: this.bucket.bucketName,
        LINKAGE_KEY_ARN: this.encryptionKey.keyArn,
        DETECTION_CONFIG: props.detectionConfigJson,
      },
    });
    this.grantRecords(this.stageFunction);
    const name = Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    this.stateMachineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.stateMachine = this.buildStateMachine(name, props, maxConcurrency);
    this.alarms = this.buildAlarms();
  }

  /** KMS with the key (Bucket Key on), TLS only, private, no versions, records expire after `expiration`. */
  private recordBucket(expiration: Duration): s3.Bucket {
    return new s3.Bucket(this, 'Records', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // working records of minutes-long runs, rebuilt by the next run: nothing to keep
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
      lifecycleRules: [{ id: 'expire-runs', prefix: LINKAGE_RUN_PREFIX, expiration, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
  }

  /** Read, write and list the runs' records, and the key for them through S3 only. */
  grantRecords(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const statements = [
      new iam.PolicyStatement({
        sid: 'LinkageRecords',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${LINKAGE_RUN_PREFIX}*`), this.bucket.arnForObjects(`${LINKAGE_STATE_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        sid: 'ListLinkageRecords',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${LINKAGE_RUN_PREFIX}*`] } },
      }),
      new iam.PolicyStatement({
        sid: 'LinkageRecordsKey',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': this.bucket.bucketArn },
        },
      }),
    ];
    for (const s of statements) grantee.grantPrincipal.addToPrincipalPolicy(s);
  }

  /** What the scorer needs to run the sharded path: the records, and start/list executions of the state machine. */
  grantRunControl(grantee: iam.IGrantable): void {
    this.grantRecords(grantee);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartLinkageRuns',
        actions: ['states:StartExecution', 'states:ListExecutions'],
        resources: [this.stateMachineArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LinkageRunInput',
        actions: WORKFLOW_KEY_ACTIONS,
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': this.stateMachineArn } },
      }),
    );
  }

  /** One Distributed Map of Express children over `itemsPath`, each invoking `fn` with `{ stage, part, plan }`. */
  private stageMap(id: string, fn: lambda.IFunction, stage: string, itemsPath: string, maxConcurrency: number): sfn.DistributedMap {
    const map = new sfn.DistributedMap(this, id, {
      comment: `detection run stage ${stage}: one Express child per ${itemsPath === '$.shards' ? 'account shard' : 'key partition'}`,
      itemsPath,
      itemSelector: { stage, part: sfn.JsonPath.stringAt('$$.Map.Item.Value'), plan: sfn.JsonPath.objectAt(PLAN_PATH) },
      mapExecutionType: sfn.StateMachineType.EXPRESS,
      maxConcurrency,
      toleratedFailurePercentage: 0,
      // each child logs its stats; the run's input passes on unchanged
      resultPath: sfn.JsonPath.DISCARD,
    });
    return map.itemProcessor(invoke(this, `${id}Child`, fn));
  }

  /**
   * profiles -> offsets -> partition -> frequencies -> index -> pairs -> merge -> parts -> reduce -> decide (maps over
   * the execution input's item arrays, steps in between) -> the scorer.
   */
  private buildStateMachine(name: string, props: ShardedLinkageProps, maxConcurrency: number): sfn.StateMachine {
    const map = (id: string, fn: lambda.IFunction, stage: string, items: 'shards' | 'partitions') =>
      this.stageMap(id, fn, stage, `$.${items}`, maxConcurrency);
    const step = (id: string, stage: string, resultPath: string, planPath = PLAN_PATH) =>
      invoke(this, id, this.stageFunction, {
        payload: sfn.TaskInput.fromObject({ stage, part: 0, plan: sfn.JsonPath.objectAt(planPath) }),
        resultPath,
      });
    // Before the offsets step the plan has no positions: the profiles map reads the execution input's.
    const profiles = new sfn.DistributedMap(this, 'Profiles', {
      comment: 'detection run stage profiles: one Express child per account shard (reads its range of windows)',
      itemsPath: '$.shards',
      itemSelector: { stage: 'profiles', part: sfn.JsonPath.stringAt('$$.Map.Item.Value'), plan: sfn.JsonPath.objectAt('$.plan') },
      mapExecutionType: sfn.StateMachineType.EXPRESS,
      maxConcurrency,
      toleratedFailurePercentage: 0,
      resultPath: sfn.JsonPath.DISCARD,
    }).itemProcessor(invoke(this, 'ProfilesChild', props.shardFunction));
    // The scorer runs one invocation at a time: a scheduled run can hold it for a moment, so throttles are retried.
    const finish = new tasks.LambdaInvoke(this, 'Finish', {
      lambdaFunction: props.scorerFunction,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({ time: sfn.JsonPath.stringAt('$.time'), sharded: { plan: sfn.JsonPath.objectAt(PLAN_PATH) } }),
    }).addRetry({ errors: ['Lambda.TooManyRequestsException'], interval: Duration.seconds(15), maxAttempts: 8, backoffRate: 1.5 });
    const definition = profiles
      .next(step('Offsets', 'offsets', '$.offsets', '$.plan'))
      .next(map('Partition', this.stageFunction, 'partition', 'shards'))
      .next(map('Frequencies', this.stageFunction, 'frequencies', 'partitions'))
      .next(map('Index', this.stageFunction, 'index', 'shards'))
      .next(map('Pairs', this.stageFunction, 'pairs', 'partitions'))
      .next(step('Merge', 'merge', sfn.JsonPath.DISCARD))
      .next(map('Parts', this.stageFunction, 'parts', 'shards'))
      .next(step('Reduce', 'reduce', sfn.JsonPath.DISCARD))
      .next(map('Decide', props.shardFunction, 'decide', 'shards'))
      .next(finish);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: this.encryptionKey,
    });
    // Log delivery decrypts the execution data it formats (AWS: "Data at rest encryption in Step Functions").
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowLogDeliveryToDecryptLinkageRuns',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:Decrypt'],
        resources: ['*'], // a key policy's resource is always the key itself
      }),
    );
    return new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
      // without execution data: the stats are in the stage function's log, the plan in the scorer's
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(this.encryptionKey, Duration.minutes(5)),
      timeout: props.timeout ?? DETECT_DEFAULTS.linkageRunTimeout,
      comment: 'distill-guard distributed detection run: profiles, linkage and scoring stages over account shards, then the scorer sums up',
    });
  }

  /** A failed or timed-out run: detection fell back to nothing until the next scheduled run starts another. */
  private buildAlarms(): cloudwatch.Alarm[] {
    const once = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
      metricAlarm(this, id, { alarmDescription, metric, threshold: 1, atLeast: true });
    const opts = { period: ALARM_PERIOD, statistic: 'Sum' };
    return [
      once(
        'RunsFailedAlarm',
        'A distributed detection run failed: the shards not yet decided were scored by nobody (the next scheduled scorer run starts another). See the stage and score-shard function logs.',
        this.stateMachine.metricFailed(opts),
      ),
      once(
        'RunsTimedOutAlarm',
        'A distributed detection run timed out: the shards not yet decided were scored by nobody. Raise maxConcurrency or lower accountsPerShard.',
        this.stateMachine.metricTimedOut(opts),
      ),
    ];
  }
}
