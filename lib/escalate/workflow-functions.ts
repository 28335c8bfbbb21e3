/**
 * The escalation's Lambda functions: the workflow steps (case, suspension), the expirer, and the functions the
 * people's tools invoke (reinstate, restrict, cluster decision). Built in the Escalation construct's scope, so their
 * logical ids do not depend on this file. What each may do on the control table is in function-policies.ts.
 */
import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DistillGuardFunction, DistillGuardFunctionProps } from '../shared/distill-guard-function';
import type { Escalation, EscalationSettings, EscalationTables } from './escalation';

/** The functions {@link buildWorkflowFunctions} builds (documented on the Escalation construct). */
export type WorkflowFunctions = Pick<
  Escalation,
  'caseFunction' | 'suspensionFunction' | 'expirerFunction' | 'reinstateFunction' | 'restrictFunction' | 'clusterDecisionFunction'
>;

export interface WorkflowFunctionsProps extends EscalationTables {
  readonly settings: EscalationSettings;
  /** The expirer drops review notifications of closed cases from it. */
  readonly reviewQueue: sqs.IQueue;
  /** Key of the workflow functions' log groups. */
  readonly logEncryptionKey: kms.IKey;
}

const seconds = (d: Duration) => d.toSeconds();

/** The settings the workflow steps read (lambdas/escalate/steps.ts `configFromEnv`). */
function stepEnvironment(props: WorkflowFunctionsProps): Record<string, string> {
  const s = props.settings;
  return {
    CONTROL_TABLE: props.controlTable.tableName,
    ...(props.featuresTable ? { FEATURES_TABLE: props.featuresTable.tableName } : {}),
    REVIEW_TIMEOUT_SECONDS: String(seconds(s.reviewTimeout)),
    BAN_BASE_SECONDS: String(seconds(s.banBase)),
    BAN_FACTOR: String(s.banFactor),
    BAN_MAX_SECONDS: String(seconds(s.banMax)),
    BAN_FORGET_SECONDS: String(seconds(s.banForgetAfter)),
    BREAKER_MAX_PER_HOUR: String(s.breakerMaxPerHour),
    BREAKER_MAX_SHARE: String(s.breakerMaxShare),
    BREAKER_MIN_ACTIVE: String(s.breakerMinActiveForShare),
    SHADOW_MODE: String(s.shadowMode),
    SHADOW_SIGNALS: s.shadowSignals.join(','),
    MANAGE_API_KEYS: String(s.manageApiKeys),
    MAX_CLUSTER_MEMBERS: String(s.maxClusterMembers),
    CASE_RETENTION_DAYS: String(s.caseRetention.toDays({ integral: false })),
    RESTRICT_DURATION_SECONDS: String(seconds(s.restrictDuration)),
  };
}

/** The six functions, in `scope`, with their environment (no permissions yet). */
export function buildWorkflowFunctions(scope: Construct, props: WorkflowFunctionsProps): WorkflowFunctions {
  const env = stepEnvironment(props);
  const fn = (id: string, fnProps: Omit<DistillGuardFunctionProps, 'serviceName'>) =>
    new DistillGuardFunction(scope, id, { serviceName: 'escalate', ...fnProps });
  const logEncryptionKey = props.logEncryptionKey;
  const manualEnv = { CONTROL_TABLE: props.controlTable.tableName, MANAGE_API_KEYS: String(props.settings.manageApiKeys) };
  return {
    caseFunction: fn('CaseFn', {
      entry: 'lambdas/escalate/case-handler.ts',
      description: 'distill-guard escalation: record case, guardrails, review result, dismiss, overdue',
      environment: env,
      logEncryptionKey,
    }),
    suspensionFunction: fn('SuspensionFn', {
      entry: 'lambdas/escalate/suspension-handler.ts',
      description: 'distill-guard escalation: apply (and compensate) a suspension',
      environment: env,
      logEncryptionKey,
    }),
    expirerFunction: fn('ExpirerFn', {
      entry: 'lambdas/escalate/expirer-handler.ts',
      description: 'distill-guard escalation: reinstate accounts whose suspension has ended; drop review notifications of closed cases',
      environment: { ...env, REVIEW_QUEUE_URL: props.reviewQueue.queueUrl },
      logEncryptionKey,
      timeout: Duration.minutes(2),
    }),
    reinstateFunction: fn('ReinstateFn', {
      entry: 'lambdas/escalate/reinstate-handler.ts',
      description: 'distill-guard escalation: manual reinstatement (invoked by the operator tools)',
      environment: manualEnv,
    }),
    restrictFunction: fn('RestrictFn', {
      entry: 'lambdas/escalate/restrict-handler.ts',
      description: 'distill-guard escalation: manual restriction (invoked by the operator tools)',
      environment: manualEnv,
    }),
    clusterDecisionFunction: fn('ClusterDecisionFn', {
      entry: 'lambdas/escalate/cluster-handler.ts',
      description: 'distill-guard escalation: record a reviewer decision on a cluster case (invoked by the review tools)',
      environment: { CONTROL_TABLE: props.controlTable.tableName, CASE_RETENTION_DAYS: env.CASE_RETENTION_DAYS },
    }),
  };
}
