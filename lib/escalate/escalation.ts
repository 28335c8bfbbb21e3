/**
 * The Escalation construct: its props, their checks, and the composition of the escalation parts (lib/escalate/):
 * review queue, workflow functions and their policies, review API, state machine, people's policies, alarms.
 */
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildQueue } from '../shared/build-queue';
import { ControlTableUserProps } from '../shared/control-table-user-props';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { stackKey } from '../shared/stack-key';
import { BREAKER_TRIPPED_METRIC, escalateMetric, escalationAlarms } from './alarms';
import { ESCALATE_DEFAULTS } from './defaults';
import { ESCALATE_SETTINGS as S } from './settings';
import { grantWorkflowFunctions, usagePlanKeyStatement } from './function-policies';
import { buildPeoplePolicies } from './people-policies';
import { ReviewApi } from './review-api';
import { buildStateMachine, WORKFLOW_KEY_ACTIONS, workflowDataStatement, workflowKeyConditions } from './state-machine';
import { buildWorkflowDefinition } from './workflow-definition';
import { buildWorkflowFunctions } from './workflow-functions';

/** Props for {@link Escalation}. */
export interface EscalationProps extends ControlTableUserProps {
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

/** The tables the escalation works on, and their key (the parts' props extend it). */
export type EscalationTables = Pick<EscalationProps, 'controlTable' | 'featuresTable' | 'tableEncryptionKey'>;

/** {@link EscalationProps} with the defaults applied (lib/escalate/defaults.ts): what the parts are built from. */
export interface EscalationSettings {
  readonly reviewTimeout: Duration;
  readonly reviewHeartbeat?: Duration;
  readonly banBase: Duration;
  readonly banFactor: number;
  readonly banMax: Duration;
  readonly banForgetAfter: Duration;
  readonly breakerMaxPerHour: number;
  readonly breakerMaxShare: number;
  readonly breakerMinActiveForShare: number;
  readonly shadowMode: boolean;
  readonly shadowSignals: readonly string[];
  readonly manageApiKeys: boolean;
  readonly restrictDuration: Duration;
  readonly expiryInterval: Duration;
  readonly caseRetention: Duration;
  readonly maxClusterMembers: number;
  /** Of the review queue and its DLQ. */
  readonly queueRemovalPolicy: RemovalPolicy;
}

/** The props with their defaults applied; no checks (see {@link validateEscalationProps}). */
export function escalationSettings(props: EscalationProps): EscalationSettings {
  const D = ESCALATE_DEFAULTS;
  return {
    reviewTimeout: props.reviewTimeout ?? D.reviewTimeout,
    reviewHeartbeat: props.reviewHeartbeat,
    banBase: props.banBase ?? D.banBase,
    banFactor: props.banFactor ?? D.banFactor,
    banMax: props.banMax ?? D.banMax,
    banForgetAfter: props.banForgetAfter ?? D.banForgetAfter,
    breakerMaxPerHour: props.breakerMaxPerHour ?? D.breakerMaxPerHour,
    breakerMaxShare: props.breakerMaxShare ?? D.breakerMaxShare,
    breakerMinActiveForShare: props.breakerMinActiveForShare ?? D.breakerMinActiveForShare,
    shadowMode: props.shadowMode ?? D.shadowMode,
    shadowSignals: props.shadowSignals ?? D.shadowSignals,
    manageApiKeys: props.manageApiKeys ?? S.manageApiKeys.default,
    restrictDuration: props.restrictDuration ?? D.restrictDuration,
    expiryInterval: props.expiryInterval ?? D.expiryInterval,
    caseRetention: props.caseRetention ?? D.caseRetention,
    maxClusterMembers: props.maxClusterMembers ?? D.maxClusterMembers,
    queueRemovalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
  };
}

const seconds = (d: Duration) => d.toSeconds();

/** The checks of {@link EscalationProps} that need no deployment, in this order: each throws with the value it received. */
export function validateEscalationProps(props: EscalationProps): void {
  const {
    reviewTimeout,
    reviewHeartbeat: heartbeat,
    banBase,
    banMax,
    banFactor,
    breakerMaxShare,
    breakerMaxPerHour,
    caseRetention,
  } = escalationSettings(props);
  if (seconds(reviewTimeout) < 1 || seconds(reviewTimeout) > 13 * 86_400) {
    throw new Error(`reviewTimeout must be between 1 second and 13 days (SQS keeps a message at most 14), got ${reviewTimeout.toHumanString()}`);
  }
  // ASL: HeartbeatSeconds must be smaller than TimeoutSeconds.
  if (heartbeat && seconds(heartbeat) >= seconds(reviewTimeout)) {
    throw new Error(`reviewHeartbeat must be shorter than reviewTimeout (${reviewTimeout.toHumanString()}), got ${heartbeat.toHumanString()}`);
  }
  if (seconds(banMax) < seconds(banBase))
    throw new Error(`banMax must be at least banBase, got ${banMax.toHumanString()} < ${banBase.toHumanString()}`);
  if (!(banFactor >= S.banFactor.min)) throw new Error(`banFactor must be >= ${S.banFactor.min}, got ${banFactor}`);
  if (!(breakerMaxShare > 0 && breakerMaxShare <= 1)) throw new Error(`breakerMaxShare must be in (0, 1], got ${breakerMaxShare}`);
  if (!(Number.isInteger(breakerMaxPerHour) && breakerMaxPerHour >= S.breakerMaxPerHour.min)) {
    throw new Error(`breakerMaxPerHour must be a non-negative integer, got ${breakerMaxPerHour}`);
  }
  if (seconds(caseRetention) < seconds(banMax) + seconds(reviewTimeout)) {
    throw new Error(
      `caseRetention must cover banMax plus reviewTimeout (a case must outlive its suspension), got ${caseRetention.toHumanString()} < ${banMax.toHumanString()} + ${reviewTimeout.toHumanString()}`,
    );
  }
  if ((props.standardUsagePlanId === undefined) !== (props.restrictedUsagePlanId === undefined)) {
    throw new Error(
      `standardUsagePlanId and restrictedUsagePlanId go together, got ${JSON.stringify({ standard: props.standardUsagePlanId ?? null, restricted: props.restrictedUsagePlanId ?? null })}`,
    );
  }
}

/**
 * The escalation workflow: a Standard state machine that records a case with its evidence, applies the
 * guardrails (allowlist, circuit breaker, shadow mode), then auto-suspends, asks a human (SQS task token with
 * a deadline) or dismisses; a suspension is applied in one transaction with its audit entry and its
 * `Account Suspended` outbox event, with the API keys disabled before and re-enabled if the decision does not
 * commit. Plus the expirer, the alarms, and `reviewerPolicy` / `operatorPolicy` for the people who work the queue.
 * Each part is built in this construct's scope (so the logical ids do not depend on the split).
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
    validateEscalationProps(props);
    const settings = escalationSettings(props);
    this.manageApiKeys = settings.manageApiKeys;
    this.encryptionKey = props.encryptionKey ?? stackKey(this);

    const review = buildQueue(this, 'ReviewQueue', {
      encryptionKey: props.queueEncryptionKey,
      keyProps: { id: 'QueueKey', description: 'distill-guard review queue (task tokens)' },
      // The message (and its token) must outlive the review deadline.
      retentionPeriod: Duration.seconds(Math.min(14 * 86_400, seconds(settings.reviewTimeout) + 86_400)),
      visibilityTimeout: ESCALATE_DEFAULTS.reviewVisibilityTimeout,
      removalPolicy: settings.queueRemovalPolicy,
      deadLetterQueue: { id: 'ReviewDlq', maxReceiveCount: ESCALATE_DEFAULTS.reviewMaxReceiveCount },
    });
    this.reviewQueue = review.queue;
    this.reviewDlq = review.deadLetterQueue!;
    this.queueKey = review.key;

    const fns = buildWorkflowFunctions(this, { ...props, settings, reviewQueue: this.reviewQueue, logEncryptionKey: this.encryptionKey });
    this.caseFunction = fns.caseFunction;
    this.suspensionFunction = fns.suspensionFunction;
    this.expirerFunction = fns.expirerFunction;
    this.reinstateFunction = fns.reinstateFunction;
    this.restrictFunction = fns.restrictFunction;
    this.clusterDecisionFunction = fns.clusterDecisionFunction;
    grantWorkflowFunctions(fns, { ...props, reviewQueue: this.reviewQueue, manageApiKeys: settings.manageApiKeys });
    this.expiryRule = new events.Rule(this, 'ExpirySchedule', {
      schedule: events.Schedule.rate(settings.expiryInterval),
      targets: [new targets.LambdaFunction(this.expirerFunction, { retryAttempts: 2 })],
    });
    if (props.standardUsagePlanId && props.restrictedUsagePlanId) this.restrictWithUsagePlans(props.standardUsagePlanId, props.restrictedUsagePlanId);

    this.reviewApi = new ReviewApi(this, 'ReviewApi', { ...props, encryptionKey: this.encryptionKey, reviewQueue: this.reviewQueue });
    const definition = buildWorkflowDefinition(this, { ...fns, reviewTaskFunction: this.reviewApi.taskFunction, ...settings });
    this.stateMachine = buildStateMachine(this, { definition, encryptionKey: this.encryptionKey, reviewTimeout: settings.reviewTimeout });
    this.reviewApi.bindStateMachine(this.stateMachine, this.workflowDataStatement('UseWorkflowKeyForReviewTasks'));
    const people = buildPeoplePolicies(this, {
      ...props,
      ...fns,
      stateMachine: this.stateMachine,
      reviewApi: this.reviewApi,
      workflowKeyStatement: this.workflowDataStatement('UseWorkflowKey'),
    });
    this.reviewerPolicy = people.reviewerPolicy;
    this.operatorPolicy = people.operatorPolicy;

    this.breakerTrippedMetric = escalateMetric(BREAKER_TRIPPED_METRIC);
    const alarms = (props.createAlarms ?? true) ? escalationAlarms(this, { stateMachine: this.stateMachine, reviewDlq: this.reviewDlq }) : undefined;
    this.alarms = alarms?.alarms ?? [];
    this.breakerTrippedAlarm = alarms?.breakerTrippedAlarm;
    if (props.createOutputs ?? true) this.createOutputs(props);
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
      conditions: workflowKeyConditions(this.stateMachine),
    });
  }

  private workflowDataStatement(sid: string): iam.PolicyStatement {
    return workflowDataStatement(sid, this.encryptionKey, this.stateMachine);
  }

  /** The stack outputs `distill-guard review --stack` reads (logical ids `Escalation<name>`). */
  private createOutputs(props: EscalationProps): void {
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
