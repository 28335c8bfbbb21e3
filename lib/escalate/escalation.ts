import { ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { stackKey } from '../shared/stack-key';
import { ESCALATE_DEFAULTS } from './defaults';
import { operatorTableStatements, reviewerTableStatements } from './operator-policy';
import { CLUSTER_PK_PREFIX } from '../../src/escalate/cluster-case';
import { ReviewApi } from './review-api';

/** Props for {@link Escalation}. */
export interface EscalationProps {
  /** The control table (cases, audit trail, account status, allowlist, breaker, outbox). */
  readonly controlTable: dynamodb.ITable;
  /**
   * The features table: read for the evidence snapshot and the active-account count of the breaker's share rule.
   * @default none: evidence holds what the scorer passed, and only the breaker's count rule applies
   */
  readonly featuresTable?: dynamodb.ITable;
  /**
   * Key of the control/features tables, when `controlTable` is an imported ITable that does not carry it.
   * @default the tables' own `encryptionKey`
   */
  readonly tableEncryptionKey?: kms.IKey;
  /**
   * KMS key of the review queue and its DLQ.
   * @default a new key with rotation enabled
   */
  readonly queueEncryptionKey?: kms.IKey;
  /**
   * Customer-managed key of the state machine (definition and execution history: case inputs, reviewer decisions)
   * and of the workflow's and functions' log groups.
   * @default the stack's key (lib/shared/stack-key.ts)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long a case waits for a reviewer (the Review state's TimeoutSeconds). At most 13 days (SQS retention).
   * On timeout: no suspension, the case is marked overdue and the ReviewOverdue alarm fires.
   * @default Duration.hours(24)
   */
  readonly reviewTimeout?: Duration;
  /**
   * Heartbeat of the Review state (HeartbeatSeconds): when set, a reviewer tool must call SendTaskHeartbeat at
   * least this often (e.g. while a case is claimed), or the review times out early.
   * Must be shorter than `reviewTimeout`.
   * @default none (only the review timeout applies)
   */
  readonly reviewHeartbeat?: Duration;
  /**
   * First suspension (fail2ban `bantime`).
   * @default Duration.hours(24)
   */
  readonly banBase?: Duration;
  /**
   * Multiplier per repeat offence (fail2ban `bantime.factor`).
   * @default 2
   */
  readonly banFactor?: number;
  /**
   * Cap on a suspension (fail2ban `bantime.maxtime`).
   * @default Duration.days(30)
   */
  readonly banMax?: Duration;
  /**
   * Offences are forgotten this long after the last suspension ended.
   * @default Duration.days(180)
   */
  readonly banForgetAfter?: Duration;
  /**
   * Circuit breaker: auto-suspend stops when the sliding-hour count would exceed this.
   * @default 20
   */
  readonly breakerMaxPerHour?: number;
  /**
   * Circuit breaker: auto-suspend stops when the sliding-hour count would exceed this share of active accounts.
   * @default 0.01
   */
  readonly breakerMaxShare?: number;
  /**
   * The share rule applies from this many active accounts on.
   * @default 200
   */
  readonly breakerMinActiveForShare?: number;
  /**
   * Global shadow mode: decisions are computed, recorded and shown, never applied. Overridable at run time with
   * `distill-guard review shadow`.
   * @default false
   */
  readonly shadowMode?: boolean;
  /**
   * Signals in shadow mode: they never cause an enforcement on their own, and never an auto-suspension.
   * @default none
   */
  readonly shadowSignals?: string[];
  /**
   * Disable/enable the account's API Gateway API keys on suspension/reinstatement.
   * @default true
   */
  readonly manageApiKeys?: boolean;
  /**
   * How long a restriction lasts when the workflow applies it (restrict plus review, or a reviewer's choice).
   * Operators choose their own with `distill-guard restrict --duration-hours`.
   * @default Duration.hours(24)
   */
  readonly restrictDuration?: Duration;
  /**
   * The usage plan an account's API keys are on normally, and the throttled one a restriction moves them to (the
   * demo API's `usagePlan` and `restrictedUsagePlan`; or plans of your own API). Both or neither; also settable
   * later with `restrictWithUsagePlans`.
   * @default none: a restriction sets the status and the step-up flag only, keys stay where they are
   */
  readonly standardUsagePlanId?: string;
  /**
   * See `standardUsagePlanId`.
   * @default none
   */
  readonly restrictedUsagePlanId?: string;
  /**
   * How often suspensions that have ended are reinstated (keys, status, event).
   * @default Duration.minutes(5)
   */
  readonly expiryInterval?: Duration;
  /**
   * How long cases (with their evidence snapshot: subnets, user agents, API key ids, cluster members) and audit
   * entries are kept: each gets a DynamoDB TTL (`expiresAt`) this long after it is written. Must cover `banMax` plus
   * `reviewTimeout`, so a case outlives its suspension.
   * @default Duration.days(365)
   */
  readonly caseRetention?: Duration;
  /**
   * Cluster members read into a case's evidence.
   * @default 20
   */
  readonly maxClusterMembers?: number;
  /**
   * Write stack outputs (`EscalationStateMachineArn`, `EscalationReviewQueueUrl`, `EscalationControlTableName`, `EscalationReinstateFunctionName`,
   * `EscalationFeaturesTableName`) that `distill-guard review --stack` reads. Turn off if the construct is used
   * twice in one stack.
   * @default true
   */
  readonly createOutputs?: boolean;
  /**
   * Create this construct's alarms (BreakerTripped, ReviewOverdue, ExecutionsFailed, review DLQ). Turn off when a
   * monitoring construct alarms on the same metrics.
   * @default true
   */
  readonly createAlarms?: boolean;
  /**
   * Removal policy of the queues and log group.
   * @default RemovalPolicy.DESTROY for the queues (transient), RETAIN for nothing else here
   */
  readonly removalPolicy?: RemovalPolicy;
}

const seconds = (d: Duration) => d.toSeconds();

/**
 * The escalation workflow: a Standard state machine that records a case with its evidence, applies the
 * guardrails (allowlist, circuit breaker, shadow mode), then auto-suspends, asks a human (SQS task token with
 * a deadline) or dismisses; a suspension is applied in one transaction with its audit entry and its
 * `Account Suspended` outbox event, with the API keys disabled before and re-enabled if the decision does not
 * commit. Plus the expirer, the alarms, and `reviewerPolicy` / `operatorPolicy` for the people who work the queue.
 */
export class Escalation extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly reviewQueue: sqs.Queue;
  readonly reviewDlq: sqs.Queue;
  readonly queueKey: kms.IKey;
  /** Key of the state machine's data and the workflow's log group (`grantWorkflowData` for its callers). */
  readonly encryptionKey: kms.IKey;
  readonly caseFunction: DistillGuardFunction;
  readonly suspensionFunction: DistillGuardFunction;
  readonly expirerFunction: DistillGuardFunction;
  /** Manual reinstatement: what the operator tools invoke (OperatorPolicy: `lambda:InvokeFunction` on it only). */
  readonly reinstateFunction: DistillGuardFunction;
  /** Manual restriction (`distill-guard restrict`): what the operator tools invoke. */
  readonly restrictFunction: DistillGuardFunction;
  /** Records a reviewer's one decision on a cluster case (ReviewerPolicy: `lambda:InvokeFunction` on it only). */
  readonly clusterDecisionFunction: DistillGuardFunction;
  readonly expiryRule: events.Rule;
  /** The review path: the Review state's function and the IAM-signed review API (the only SendTask* principal). */
  readonly reviewApi: ReviewApi;
  /** Review tools: call the review API (lambda:InvokeFunctionUrl), read executions and the control table. */
  readonly reviewerPolicy: iam.ManagedPolicy;
  /** Operator tools: allowlist, breaker re-arm, shadow mode (control-table writes); reinstatement by invoking `reinstateFunction`. */
  readonly operatorPolicy: iam.ManagedPolicy;
  readonly alarms: cloudwatch.Alarm[];
  private readonly manageApiKeys: boolean;
  private usagePlansSet = false;
  /** Undefined when `createAlarms` is false. */
  readonly breakerTrippedAlarm?: cloudwatch.Alarm;
  /** The metric the breaker alarm watches (namespace DistillGuard, dimension service=escalate). */
  readonly breakerTrippedMetric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: EscalationProps) {
    super(scope, id);
    const D = ESCALATE_DEFAULTS;
    const reviewTimeout = props.reviewTimeout ?? D.reviewTimeout;
    if (seconds(reviewTimeout) < 1 || seconds(reviewTimeout) > 13 * 86_400) {
      throw new Error(`reviewTimeout must be between 1 second and 13 days (SQS keeps a message at most 14), got ${reviewTimeout.toHumanString()}`);
    }
    const heartbeat = props.reviewHeartbeat;
    // ASL: HeartbeatSeconds must be smaller than TimeoutSeconds.
    if (heartbeat && seconds(heartbeat) >= seconds(reviewTimeout)) {
      throw new Error(`reviewHeartbeat must be shorter than reviewTimeout (${reviewTimeout.toHumanString()}), got ${heartbeat.toHumanString()}`);
    }
    const banBase = props.banBase ?? D.banBase;
    const banMax = props.banMax ?? D.banMax;
    if (seconds(banMax) < seconds(banBase))
      throw new Error(`banMax must be at least banBase, got ${banMax.toHumanString()} < ${banBase.toHumanString()}`);
    const banFactor = props.banFactor ?? D.banFactor;
    if (!(banFactor >= 1)) throw new Error(`banFactor must be >= 1, got ${banFactor}`);
    const maxShare = props.breakerMaxShare ?? D.breakerMaxShare;
    if (!(maxShare > 0 && maxShare <= 1)) throw new Error(`breakerMaxShare must be in (0, 1], got ${maxShare}`);
    const maxPerHour = props.breakerMaxPerHour ?? D.breakerMaxPerHour;
    if (!(Number.isInteger(maxPerHour) && maxPerHour >= 0)) throw new Error(`breakerMaxPerHour must be a non-negative integer, got ${maxPerHour}`);
    const manageApiKeys = props.manageApiKeys ?? true;
    const caseRetention = props.caseRetention ?? D.caseRetention;
    if (seconds(caseRetention) < seconds(banMax) + seconds(reviewTimeout)) {
      throw new Error(
        `caseRetention must cover banMax plus reviewTimeout (a case must outlive its suspension), got ${caseRetention.toHumanString()} < ${banMax.toHumanString()} + ${reviewTimeout.toHumanString()}`,
      );
    }
    const queueRemoval = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.encryptionKey = props.encryptionKey ?? stackKey(this);

    // ---------------- review queue ----------------
    this.queueKey =
      props.queueEncryptionKey ?? new kms.Key(this, 'QueueKey', { enableKeyRotation: true, description: 'distill-guard review queue (task tokens)' });
    this.reviewDlq = new sqs.Queue(this, 'ReviewDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: queueRemoval,
    });
    this.reviewQueue = new sqs.Queue(this, 'ReviewQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      // The message (and its token) must outlive the review deadline.
      retentionPeriod: Duration.seconds(Math.min(14 * 86_400, seconds(reviewTimeout) + 86_400)),
      visibilityTimeout: D.reviewVisibilityTimeout,
      deadLetterQueue: { queue: this.reviewDlq, maxReceiveCount: D.reviewMaxReceiveCount },
      removalPolicy: queueRemoval,
    });

    // ---------------- functions ----------------
    const env: Record<string, string> = {
      CONTROL_TABLE: props.controlTable.tableName,
      ...(props.featuresTable ? { FEATURES_TABLE: props.featuresTable.tableName } : {}),
      REVIEW_TIMEOUT_SECONDS: String(seconds(reviewTimeout)),
      BAN_BASE_SECONDS: String(seconds(banBase)),
      BAN_FACTOR: String(banFactor),
      BAN_MAX_SECONDS: String(seconds(banMax)),
      BAN_FORGET_SECONDS: String(seconds(props.banForgetAfter ?? D.banForgetAfter)),
      BREAKER_MAX_PER_HOUR: String(maxPerHour),
      BREAKER_MAX_SHARE: String(maxShare),
      BREAKER_MIN_ACTIVE: String(props.breakerMinActiveForShare ?? D.breakerMinActiveForShare),
      SHADOW_MODE: String(props.shadowMode ?? D.shadowMode),
      SHADOW_SIGNALS: (props.shadowSignals ?? D.shadowSignals).join(','),
      MANAGE_API_KEYS: String(manageApiKeys),
      MAX_CLUSTER_MEMBERS: String(props.maxClusterMembers ?? D.maxClusterMembers),
      CASE_RETENTION_DAYS: String(caseRetention.toDays({ integral: false })),
      RESTRICT_DURATION_SECONDS: String(seconds(props.restrictDuration ?? D.restrictDuration)),
    };
    this.caseFunction = new DistillGuardFunction(this, 'CaseFn', {
      entry: 'lambdas/escalate/case-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: record case, guardrails, review result, dismiss, overdue',
      environment: env,
      logEncryptionKey: this.encryptionKey,
    });
    this.suspensionFunction = new DistillGuardFunction(this, 'SuspensionFn', {
      entry: 'lambdas/escalate/suspension-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: apply (and compensate) a suspension',
      environment: env,
      logEncryptionKey: this.encryptionKey,
    });
    this.expirerFunction = new DistillGuardFunction(this, 'ExpirerFn', {
      entry: 'lambdas/escalate/expirer-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: reinstate accounts whose suspension has ended; drop review notifications of closed cases',
      environment: { ...env, REVIEW_QUEUE_URL: this.reviewQueue.queueUrl },
      logEncryptionKey: this.encryptionKey,
      timeout: Duration.minutes(2),
    });
    this.reinstateFunction = new DistillGuardFunction(this, 'ReinstateFn', {
      entry: 'lambdas/escalate/reinstate-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: manual reinstatement (invoked by the operator tools)',
      environment: { CONTROL_TABLE: props.controlTable.tableName, MANAGE_API_KEYS: String(manageApiKeys) },
    });
    this.restrictFunction = new DistillGuardFunction(this, 'RestrictFn', {
      entry: 'lambdas/escalate/restrict-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: manual restriction (invoked by the operator tools)',
      environment: { CONTROL_TABLE: props.controlTable.tableName, MANAGE_API_KEYS: String(manageApiKeys) },
    });
    this.manageApiKeys = manageApiKeys;
    this.clusterDecisionFunction = new DistillGuardFunction(this, 'ClusterDecisionFn', {
      entry: 'lambdas/escalate/cluster-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: record a reviewer decision on a cluster case (invoked by the review tools)',
      environment: { CONTROL_TABLE: props.controlTable.tableName, CASE_RETENTION_DAYS: env.CASE_RETENTION_DAYS },
    });
    for (const fn of [this.caseFunction, this.suspensionFunction, this.expirerFunction]) {
      props.controlTable.grantReadWriteData(fn);
      props.tableEncryptionKey?.grantEncryptDecrypt(fn);
    }
    // Reinstatement reads and updates the account status and the case, appends an audit entry and an outbox
    // event: single-item reads and writes on those key prefixes, no query, scan or delete.
    const leading = (prefixes: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes } });
    this.reinstateFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadAccountAndCase',
        actions: ['dynamodb:GetItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['ACCOUNT#*', 'CASE#*']),
      }),
    );
    this.reinstateFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UpdateAccountAndCase',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['ACCOUNT#*', 'CASE#*']),
      }),
    );
    this.reinstateFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AppendAuditAndOutbox',
        actions: ['dynamodb:PutItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['CASE#*', 'OUTBOX#*']),
      }),
    );
    this.reinstateFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CountReviewerFeedback',
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['FEEDBACK#*']),
      }),
    );
    (props.tableEncryptionKey ?? props.controlTable.encryptionKey)?.grantEncryptDecrypt(this.reinstateFunction);
    // Manual restriction: reads the account, its allowlist entry and breaker state; one transaction that checks the
    // allowlist entry, updates the account status and appends an audit entry and an outbox event.
    this.restrictFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadAccountAndAllowlist',
        actions: ['dynamodb:GetItem', 'dynamodb:ConditionCheckItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['ACCOUNT#*', 'ALLOW#*', 'CASE#*']),
      }),
    );
    this.restrictFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UpdateAccountStatus',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['ACCOUNT#*']),
      }),
    );
    this.restrictFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AppendAuditAndOutbox',
        actions: ['dynamodb:PutItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading(['CASE#*', 'OUTBOX#*']),
      }),
    );
    (props.tableEncryptionKey ?? props.controlTable.encryptionKey)?.grantEncryptDecrypt(this.restrictFunction);
    // The cluster decision reads and writes only cluster-case items (header, members, cluster audit entries).
    this.clusterDecisionFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ClusterCaseItems',
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
        resources: [props.controlTable.tableArn],
        conditions: leading([`${CLUSTER_PK_PREFIX}*`]),
      }),
    );
    (props.tableEncryptionKey ?? props.controlTable.encryptionKey)?.grantEncryptDecrypt(this.clusterDecisionFunction);
    props.featuresTable?.grantReadData(this.caseFunction);
    // The expirer deletes review notifications of cases no longer waiting (lambdas/escalate/review-queue-sweeper.ts).
    this.reviewQueue.grantConsumeMessages(this.expirerFunction);
    if (manageApiKeys) {
      const keyPolicy = apiKeyStatements();
      for (const fn of [this.suspensionFunction, this.expirerFunction, this.reinstateFunction]) keyPolicy.forEach((s) => fn.addToRolePolicy(s));
      // A restriction only reads keys (which the account owns); it never enables or disables one.
      this.restrictFunction.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadAccountApiKeys',
          actions: ['apigateway:GET'],
          resources: [`arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/apikeys`, `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/apikeys/*`],
        }),
      );
    }
    this.expiryRule = new events.Rule(this, 'ExpirySchedule', {
      schedule: events.Schedule.rate(props.expiryInterval ?? D.expiryInterval),
      targets: [new targets.LambdaFunction(this.expirerFunction, { retryAttempts: 2 })],
    });

    if ((props.standardUsagePlanId === undefined) !== (props.restrictedUsagePlanId === undefined)) {
      throw new Error(
        `standardUsagePlanId and restrictedUsagePlanId go together, got ${JSON.stringify({ standard: props.standardUsagePlanId ?? null, restricted: props.restrictedUsagePlanId ?? null })}`,
      );
    }
    if (props.standardUsagePlanId && props.restrictedUsagePlanId) this.restrictWithUsagePlans(props.standardUsagePlanId, props.restrictedUsagePlanId);
    // ---------------- review API ----------------
    this.reviewApi = new ReviewApi(this, 'ReviewApi', {
      controlTable: props.controlTable,
      tableEncryptionKey: props.tableEncryptionKey,
      encryptionKey: this.encryptionKey,
      reviewQueue: this.reviewQueue,
    });

    // ---------------- state machine ----------------
    const stateMachine = this.buildDefinition(reviewTimeout, heartbeat);
    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: this.encryptionKey,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(stateMachine),
      tracingEnabled: true,
      // includeExecutionData false: state inputs carry the task token; it must never reach the logs.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      // Beyond the review deadline plus generous time for the steps around it.
      timeout: Duration.seconds(seconds(reviewTimeout) + 2 * 3600),
      comment: 'distill-guard escalation: case, guardrails, review or auto-suspend, suspension with outbox event',
    });
    this.encryptStateMachine();
    this.reviewApi.bindStateMachine(this.stateMachine, this.workflowDataStatement('UseWorkflowKeyForReviewTasks'));

    // ---------------- policies for people ----------------
    const stack = Stack.of(this);
    const describeStack = new iam.PolicyStatement({
      sid: 'DiscoverStackResources',
      actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResources'],
      resources: [stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` })],
    });
    this.reviewerPolicy = new iam.ManagedPolicy(this, 'ReviewerPolicy', {
      description: 'distill-guard reviewers: decide review cases through the review API (IAM-signed), read cases',
      statements: [describeStack],
    });
    const tableArns = (t: dynamodb.ITable) => [t.tableArn, `${t.tableArn}/index/*`];
    const tableKeys = [props.tableEncryptionKey, props.controlTable.encryptionKey, props.featuresTable?.encryptionKey].filter(
      (k): k is kms.IKey => !!k,
    );
    const readTables = [props.controlTable, ...(props.featuresTable ? [props.featuresTable] : [])].flatMap(tableArns);
    this.reviewerPolicy.addStatements(
      // Decisions go through the review API, which records the signed caller; reviewers hold no SendTask*.
      this.reviewApi.invokeStatement(),
      new iam.PolicyStatement({
        sid: 'ReadExecutions',
        actions: ['states:DescribeStateMachine', 'states:ListExecutions'],
        resources: [this.stateMachine.stateMachineArn],
      }),
      // A cluster decision is recorded by the stack's function: reviewers still write nothing in the tables but claims.
      new iam.PolicyStatement({
        sid: 'RecordClusterDecisions',
        actions: ['lambda:InvokeFunction'],
        resources: [this.clusterDecisionFunction.functionArn],
      }),
      this.workflowDataStatement('UseWorkflowKey'),
      new iam.PolicyStatement({
        sid: 'ReadCases',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable', 'dynamodb:ConditionCheckItem'],
        resources: readTables,
      }),
      ...(tableKeys.length
        ? [
            new iam.PolicyStatement({
              sid: 'DecryptTables',
              actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
              resources: tableKeys.map((k) => k.keyArn),
            }),
          ]
        : []),
      ...reviewerTableStatements(props.controlTable),
    );

    // Scoped by key prefix and attributes to what the operator tools write; denies on cases, audit and outbox
    // (lib/escalate/operator-policy.ts, docs/security.md).
    this.operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description: 'distill-guard operators: allowlist, breaker re-arm, shadow mode, reinstatement (with the ReviewerPolicy)',
      statements: [
        describeStack,
        // Reinstatement goes through the function (keys, status, audit, event together); operators hold no
        // API Gateway key permission of their own.
        new iam.PolicyStatement({ sid: 'InvokeReinstatement', actions: ['lambda:InvokeFunction'], resources: [this.reinstateFunction.functionArn] }),
        // Manual cases (suspend an account no case covers) and re-opened overdue cases start this workflow; a
        // reviewer still decides them.
        new iam.PolicyStatement({ sid: 'StartManualCases', actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
        new iam.PolicyStatement({ sid: 'InvokeRestriction', actions: ['lambda:InvokeFunction'], resources: [this.restrictFunction.functionArn] }),
        ...operatorTableStatements({ controlTable: props.controlTable, tableKeys }),
      ],
    });

    // ---------------- alarms ----------------
    const metric = (name: string) =>
      new cloudwatch.Metric({
        namespace: 'DistillGuard',
        metricName: name,
        dimensionsMap: { service: 'escalate' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    this.alarms = [];
    this.breakerTrippedMetric = metric('BreakerTripped');
    if (props.createAlarms ?? true) {
      this.breakerTrippedAlarm = new cloudwatch.Alarm(this, 'BreakerTrippedAlarm', {
        alarmDescription:
          'Suspension-rate circuit breaker tripped: auto-suspend is off, every case goes to review. Investigate, then `distill-guard breaker rearm`.',
        metric: metric('BreakerTripped'),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.alarms.push(
        this.breakerTrippedAlarm,
        new cloudwatch.Alarm(this, 'ReviewOverdueAlarm', {
          alarmDescription:
            'A review case passed its deadline without a decision (no suspension was applied). See `distill-guard review list --state overdue`.',
          metric: metric('ReviewOverdue'),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        new cloudwatch.Alarm(this, 'ExecutionsFailedAlarm', {
          alarmDescription: 'An escalation execution failed (its case is marked error/overdue; nothing half-applied).',
          metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        new cloudwatch.Alarm(this, 'ReviewDlqAlarm', {
          alarmDescription: 'Review messages reached the DLQ (received too often without completion).',
          metric: this.reviewDlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    if (props.createOutputs ?? true) {
      const out = (id: string, value: string, description: string) =>
        new CfnOutput(this, id, { value, description }).overrideLogicalId(`Escalation${id}`);
      out('StateMachineArn', this.stateMachine.stateMachineArn, 'escalation state machine (distill-guard review)');
      out('ReviewQueueUrl', this.reviewQueue.queueUrl, 'review queue (notifications; no task tokens)');
      out('ControlTableName', props.controlTable.tableName, 'control table (cases, audit, allowlist, breaker)');
      out('ReviewApiUrl', this.reviewApi.url.url, 'review API (IAM-signed): distill-guard review approve|reject');
      out('ReinstateFunctionName', this.reinstateFunction.functionName, 'manual reinstatement (distill-guard review reinstate)');
      out('RestrictFunctionName', this.restrictFunction.functionName, 'manual restriction (distill-guard restrict)');
      out('ClusterDecisionFunctionName', this.clusterDecisionFunction.functionName, 'cluster decisions (distill-guard cluster decide)');
      if (props.featuresTable) out('FeaturesTableName', props.featuresTable.tableName, 'features table');
      out('ReviewerPolicyArn', this.reviewerPolicy.managedPolicyArn, 'attach to reviewers');
      out('OperatorPolicyArn', this.operatorPolicy.managedPolicyArn, 'attach to operators');
    }
  }

  /**
   * Restrictions move the account's own API keys from `standardPlanId` to the throttled `restrictedPlanId` (and
   * back when lifted). Grants the functions that do it the usage-plan key calls on these two plans only.
   */
  restrictWithUsagePlans(standardPlanId: string, restrictedPlanId: string): void {
    if (this.usagePlansSet) throw new Error('restrictWithUsagePlans was already called for this construct');
    this.usagePlansSet = true;
    if (!this.manageApiKeys) return;
    const statement = usagePlanKeyStatement([standardPlanId, restrictedPlanId]);
    for (const fn of [this.suspensionFunction, this.expirerFunction, this.reinstateFunction, this.restrictFunction]) {
      fn.addEnvironment('STANDARD_USAGE_PLAN_ID', standardPlanId);
      fn.addEnvironment('RESTRICTED_USAGE_PLAN_ID', restrictedPlanId);
      fn.addToRolePolicy(statement);
    }
  }

  /**
   * Let `grantee` use the state machine's key for this state machine's data only: what StartExecution and the
   * task-token calls (SendTask*) need once the state machine is encrypted with a customer-managed key.
   */
  grantWorkflowData(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: WORKFLOW_KEY_ACTIONS,
      resourceArns: [this.encryptionKey.keyArn],
      conditions: this.workflowKeyConditions(),
    });
  }

  private workflowKeyConditions(): Record<string, Record<string, unknown>> {
    return { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': this.stateMachine.stateMachineArn } };
  }

  private workflowDataStatement(sid: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: WORKFLOW_KEY_ACTIONS,
      resources: [this.encryptionKey.keyArn],
      conditions: this.workflowKeyConditions(),
    });
  }

  /**
   * Customer-managed-key encryption of the state machine, set on the L1 resource: the L2 `encryptionConfiguration`
   * grants its role the key under a condition naming the state machine, which only matches a state machine with an
   * explicit name, and naming the deployed one would replace it (ending the reviews in flight). The grants here use
   * the state machine's ARN instead, in a policy of their own (the role's default policy would be a dependency cycle).
   */
  private encryptStateMachine(): void {
    const key = this.encryptionKey;
    const cfn = this.stateMachine.node.defaultChild as sfn.CfnStateMachine;
    cfn.encryptionConfiguration = { type: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: key.keyArn, kmsDataKeyReusePeriodSeconds: 300 };
    new iam.Policy(this, 'StateMachineKeyPolicy', { statements: [this.workflowDataStatement('UseKeyForThisStateMachine')] }).attachToRole(
      this.stateMachine.role,
    );
    // Log delivery of an encrypted state machine: the role makes the data key for the log group, and the delivery
    // service decrypts the execution data it formats (AWS: "Data at rest encryption in Step Functions").
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KeyForLogDelivery',
        actions: ['kms:GenerateDataKey'],
        resources: [key.keyArn],
        conditions: {
          StringEquals: {
            'kms:EncryptionContext:SourceArn': Stack.of(this).formatArn({ service: 'logs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }),
          },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowLogDeliveryToDecryptWorkflowData',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:Decrypt'],
        resources: ['*'], // a key policy's resource is always the key itself
      }),
    );
  }

  private buildDefinition(reviewTimeout: Duration, heartbeat: Duration | undefined): sfn.IChainable {
    const retry = (t: sfn.TaskStateBase) => {
      // Lambda service hiccups, then anything the step threw (steps are idempotent).
      t.addRetry({
        errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
        interval: Duration.seconds(1),
        maxAttempts: 6,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      t.addRetry({
        errors: ['States.TaskFailed'],
        interval: Duration.seconds(2),
        maxAttempts: 3,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return t;
    };
    const step = (id: string, fn: DistillGuardFunction, name: string, resultPath: string | undefined, comment: string) =>
      retry(
        new tasks.LambdaInvoke(this, id, {
          lambdaFunction: fn,
          payloadResponseOnly: true,
          retryOnServiceExceptions: false, // the retry below covers them (with jitter)
          payload: sfn.TaskInput.fromObject({ step: name, state: sfn.JsonPath.entirePayload }),
          resultPath: resultPath ?? sfn.JsonPath.DISCARD,
          comment,
        }),
      );

    const failed = new sfn.Fail(this, 'EscalationFailed', {
      error: 'EscalationFailed',
      cause: 'a step failed after retries; the case is marked error and nothing is half-applied',
    });
    const markError = step('MarkError', this.caseFunction, 'error', undefined, 'case -> error (needs attention), account released').addCatch(failed, {
      resultPath: '$.markErrorFailure',
    });
    markError.next(failed);
    const catchTo = (t: sfn.TaskStateBase, next: sfn.IChainable = markError) => t.addCatch(next, { errors: ['States.ALL'], resultPath: '$.error' });

    const done = new sfn.Succeed(this, 'Done');
    const duplicate = new sfn.Succeed(this, 'Duplicate', { comment: 'the account already has an open case: nothing to do' });

    const record = catchTo(
      step('RecordCase', this.caseFunction, 'record', '$.record', 'one open case per account; evidence snapshot; Account Flagged (outbox)'),
    );
    const guard = catchTo(
      step(
        'CheckGuardrails',
        this.caseFunction,
        'route',
        '$.guard',
        'allowlist, circuit breaker, shadow mode -> suspend | restrict | review | dismiss',
      ),
    );
    const dismiss = catchTo(step('Dismiss', this.caseFunction, 'dismiss', '$.closed', 'close without enforcement'));
    dismiss.next(done);
    const overdue = step('MarkOverdue', this.caseFunction, 'overdue', '$.closed', 'deadline passed: no suspension, case overdue').addCatch(failed, {
      resultPath: '$.error',
    });
    overdue.next(done);
    const compensate = step(
      'CompensateSuspension',
      this.suspensionFunction,
      'compensate',
      '$.compensated',
      're-enable any API key the failed suspension disabled',
    ).addCatch(markError, { resultPath: '$.compensateFailure' });
    compensate.next(markError);
    const apply = catchTo(
      step(
        'ApplySuspension',
        this.suspensionFunction,
        'apply',
        '$.applied',
        'allowlist re-check; keys off; status + case + audit + Account Suspended in one transaction',
      ),
      compensate,
    );
    const reviewed = catchTo(step('RecordReview', this.caseFunction, 'reviewed', '$.reviewed', 'validate and audit the reviewer decision'));

    const review = new tasks.LambdaInvoke(this, 'Review', {
      comment:
        'human review: the function keeps the task token with the case (encrypted) and notifies the review queue; the review API completes the task',
      lambdaFunction: this.reviewApi.taskFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        caseId: sfn.JsonPath.stringAt('$.caseId'),
        accountId: sfn.JsonPath.stringAt('$.accountId'),
        decision: sfn.JsonPath.stringAt('$.decision'),
        score: sfn.JsonPath.numberAt('$.score'),
        reasons: sfn.JsonPath.listAt('$.reasons'),
        deadline: sfn.JsonPath.stringAt('$.guard.reviewDeadline'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      }),
      retryOnServiceExceptions: false, // the retry below covers them (with jitter)
      taskTimeout: sfn.Timeout.duration(reviewTimeout),
      ...(heartbeat ? { heartbeatTimeout: sfn.Timeout.duration(heartbeat) } : {}),
      resultPath: '$.review',
    });
    review.addRetry({
      errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
      interval: Duration.seconds(2),
      maxAttempts: 4,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    review.addCatch(overdue, { errors: ['States.Timeout', 'States.HeartbeatTimeout'], resultPath: '$.error' });
    catchTo(review);

    // Restrict: keys to the throttled plan, status + step-up + audit + Account Restricted in one transaction. Before a
    // review (restrict plus review) the case then waits for the reviewer; a reviewer's restrict closes it.
    const compensateRestriction = step(
      'CompensateRestriction',
      this.suspensionFunction,
      'compensate-restriction',
      '$.compensated',
      'move any key the failed restriction moved back to its usage plan',
    ).addCatch(markError, { resultPath: '$.compensateFailure' });
    compensateRestriction.next(markError);
    const restrict = catchTo(
      step(
        'ApplyRestriction',
        this.suspensionFunction,
        'restrict',
        '$.restricted',
        'allowlist re-check; keys to the restricted usage plan; status + step-up + case + audit + Account Restricted in one transaction',
      ),
      compensateRestriction,
    );
    const afterRestrict = new sfn.Choice(this, 'Restricted?')
      .when(sfn.Condition.booleanEquals('$.restricted.closed', true), done)
      // Restrict plus review, or refused by the breaker: the case is already in review with its deadline.
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals('$.restricted.outcome', 'restricted'),
          sfn.Condition.stringEquals('$.restricted.outcome', 'breaker'),
        ),
        review,
      )
      .when(sfn.Condition.stringEquals('$.restricted.outcome', 'allowlisted'), dismiss)
      .otherwise(markError);
    restrict.next(afterRestrict);
    const lift = catchTo(
      step(
        'LiftRestriction',
        this.suspensionFunction,
        'lift',
        '$.lifted',
        'rejected: lift the restriction this case applied (keys back, step-up cleared, Account Reinstated)',
      ),
    );
    lift.next(dismiss);
    const rejected = new sfn.Choice(this, 'RestrictedBeforeReview?')
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.restricted.outcome'), sfn.Condition.stringEquals('$.restricted.outcome', 'restricted')),
        lift,
      )
      .otherwise(dismiss);

    const approved = new sfn.Choice(this, 'Approved?')
      .when(
        sfn.Condition.and(sfn.Condition.booleanEquals('$.reviewed.approved', true), sfn.Condition.stringEquals('$.reviewed.action', 'restrict')),
        restrict,
      )
      .when(sfn.Condition.booleanEquals('$.reviewed.approved', true), apply)
      .otherwise(rejected);
    review.next(reviewed);
    reviewed.next(approved);

    const toReview = new sfn.Pass(this, 'BreakerRefusedAtApply', {
      comment: 'the breaker tripped between the check and the apply: hand the case to a human',
      inputPath: '$.applied.reviewDeadline',
      resultPath: '$.guard.reviewDeadline',
    });
    toReview.next(review);
    const afterApply = new sfn.Choice(this, 'Applied?')
      .when(sfn.Condition.stringEquals('$.applied.outcome', 'breaker'), toReview)
      .when(sfn.Condition.stringEquals('$.applied.outcome', 'allowlisted'), dismiss)
      .when(sfn.Condition.stringEquals('$.applied.outcome', 'suspended'), done)
      // `not-open`: the case no longer owns the account (closed or superseded): an inconsistency worth an alarm.
      .otherwise(markError);
    apply.next(afterApply);

    const route = new sfn.Choice(this, 'Route')
      .when(sfn.Condition.stringEquals('$.guard.route', 'suspend'), apply)
      .when(sfn.Condition.stringEquals('$.guard.route', 'restrict'), restrict)
      .when(sfn.Condition.stringEquals('$.guard.route', 'review'), review)
      .otherwise(dismiss);
    guard.next(route);

    const isDuplicate = new sfn.Choice(this, 'Duplicate?').when(sfn.Condition.booleanEquals('$.record.duplicate', true), duplicate).otherwise(guard);
    record.next(isDuplicate);

    // The execution id lets RecordCase tell a retry from a second execution of the same case.
    const start = new sfn.Pass(this, 'Start', { parameters: { 'id.$': '$$.Execution.Id' }, resultPath: '$.executionMeta' });
    const flatten = new sfn.Pass(this, 'ExecutionId', { inputPath: '$.executionMeta.id', resultPath: '$.executionId' });
    return start.next(flatten).next(record);
  }
}

/** GetUsagePlanKeys, CreateUsagePlanKey and DeleteUsagePlanKey on the given plans' keys, nothing else. */
function usagePlanKeyStatement(planIds: string[]): iam.PolicyStatement {
  const keysOf = (id: string) => `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/usageplans/${id}/keys`;
  return new iam.PolicyStatement({
    sid: 'MoveKeysBetweenUsagePlans',
    actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:DELETE'],
    resources: planIds.flatMap((id) => [keysOf(id), `${keysOf(id)}/*`]),
  });
}

/** What a caller of the encrypted state machine needs on its key (for that state machine's data only). */
const WORKFLOW_KEY_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** API Gateway API key read/enable/disable. API keys are region-level resources: no narrower ARN exists. */
function apiKeyStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ManageAccountApiKeys',
      actions: ['apigateway:GET', 'apigateway:PATCH'],
      resources: [`arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/apikeys`, `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/apikeys/*`],
    }),
  ];
}
