/**
 * The escalation state machine: Standard, traced, logged without execution data (state inputs carry the task
 * token), and encrypted with a customer-managed key in a way that keeps the deployed state machine (see
 * `encryptStateMachine`).
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** What a caller of the encrypted state machine needs on its key (for that state machine's data only). */
export const WORKFLOW_KEY_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** The condition that limits a grant on the workflow key to `stateMachine`'s data. */
export function workflowKeyConditions(stateMachine: sfn.IStateMachine): Record<string, Record<string, unknown>> {
  return { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': stateMachine.stateMachineArn } };
}

/** A statement `sid` that lets its holder use `key` for `stateMachine`'s data only. */
export function workflowDataStatement(sid: string, key: kms.IKey, stateMachine: sfn.IStateMachine): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: WORKFLOW_KEY_ACTIONS, resources: [key.keyArn], conditions: workflowKeyConditions(stateMachine) });
}

export interface EscalationStateMachineProps {
  readonly definition: sfn.IChainable;
  /** Key of the state machine's data and of its log group. */
  readonly encryptionKey: kms.IKey;
  readonly reviewTimeout: Duration;
}

/** The state machine `StateMachine` and its log group `WorkflowLogs`, in `scope`. */
export function buildStateMachine(scope: Construct, props: EscalationStateMachineProps): sfn.StateMachine {
  const logGroup = new logs.LogGroup(scope, 'WorkflowLogs', {
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: props.encryptionKey,
  });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    tracingEnabled: true,
    // includeExecutionData false: state inputs carry the task token; it must never reach the logs.
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    // Beyond the review deadline plus generous time for the steps around it.
    timeout: Duration.seconds(props.reviewTimeout.toSeconds() + 2 * 3600),
    comment: 'distill-guard escalation: case, guardrails, review or auto-suspend, suspension with outbox event',
  });
  encryptStateMachine(scope, stateMachine, props.encryptionKey);
  return stateMachine;
}

/**
 * Customer-managed-key encryption of the state machine, set on the L1 resource: the L2 `encryptionConfiguration`
 * grants its role the key under a condition naming the state machine, which only matches a state machine with an
 * explicit name, and naming the deployed one would replace it (ending the reviews in flight). The grants here use
 * the state machine's ARN instead, in a policy of their own (the role's default policy would be a dependency cycle).
 */
function encryptStateMachine(scope: Construct, stateMachine: sfn.StateMachine, key: kms.IKey): void {
  const cfn = stateMachine.node.defaultChild as sfn.CfnStateMachine;
  cfn.encryptionConfiguration = { type: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: key.keyArn, kmsDataKeyReusePeriodSeconds: 300 };
  new iam.Policy(scope, 'StateMachineKeyPolicy', {
    statements: [workflowDataStatement('UseKeyForThisStateMachine', key, stateMachine)],
  }).attachToRole(stateMachine.role);
  // Log delivery of an encrypted state machine: the role makes the data key for the log group, and the delivery
  // service decrypts the execution data it formats (AWS: "Data at rest encryption in Step Functions").
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'KeyForLogDelivery',
      actions: ['kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: {
        StringEquals: {
          'kms:EncryptionContext:SourceArn': Stack.of(scope).formatArn({ service: 'logs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }),
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
