/**
 * The review path: the Review state's function (keeps the task token with its case, encrypted with the stack's key)
 * and the review API (a Lambda function URL with `AuthType: AWS_IAM`), whose role is the only principal granted
 * `states:SendTask*` on the state machine. The reviewer it records is the signed caller from the request context, so
 * nobody can complete a review under another name (docs/security.md, "Reviewers").
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TASK_TOKEN_PURPOSE } from '../../src/escalate/model';
import { PK_PREFIX } from '../../src/shared/tables';
import { ControlTableUserProps } from '../shared/control-table-user-props';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { leadingKeyStatement } from './function-policies';

export interface ReviewApiProps extends ControlTableUserProps {
  /**
   * Key of the control table when the table does not carry it.
   * @default the table's own `encryptionKey`
   */
  readonly tableEncryptionKey?: kms.IKey;
  /** The stack's key: encrypts the stored task tokens. */
  readonly encryptionKey: kms.IKey;
  /** The review queue: the Review state's notification (no token). */
  readonly reviewQueue: sqs.IQueue;
}

export class ReviewApi extends Construct {
  /** Runs in the Review state: stores the encrypted token, notifies the queue. */
  readonly taskFunction: DistillGuardFunction;
  /** The review API behind {@link url}. */
  readonly apiFunction: DistillGuardFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ReviewApiProps) {
    super(scope, id);
    const table = props.controlTable;
    const tableKey = props.tableEncryptionKey ?? table.encryptionKey;
    this.taskFunction = new DistillGuardFunction(this, 'TaskFn', {
      entry: 'lambdas/escalate/review-task-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard escalation: keep the review task token with its case (encrypted), notify the review queue',
      environment: { CONTROL_TABLE: table.tableName, TASK_TOKEN_KEY_ID: props.encryptionKey.keyArn, REVIEW_QUEUE_URL: props.reviewQueue.queueUrl },
      logEncryptionKey: props.encryptionKey,
    });
    this.apiFunction = new DistillGuardFunction(this, 'ApiFn', {
      entry: 'lambdas/escalate/review-api-handler.ts',
      serviceName: 'escalate',
      description: 'distill-guard review API (IAM-signed): records the signed caller as reviewer and completes the review task',
      environment: { CONTROL_TABLE: table.tableName },
      logEncryptionKey: props.encryptionKey,
    });
    this.url = this.apiFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    this.taskFunction.addToRolePolicy(leadingKeyStatement('StoreTaskTokenOnCase', table, ['dynamodb:UpdateItem'], [`${PK_PREFIX.case}*`]));
    this.apiFunction.addToRolePolicy(
      leadingKeyStatement('ReadCaseRecordDecision', table, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [`${PK_PREFIX.case}*`]),
    );
    tableKey?.grantEncryptDecrypt(this.taskFunction);
    tableKey?.grantEncryptDecrypt(this.apiFunction);
    const tokenContext = { StringEquals: { 'kms:EncryptionContext:purpose': TASK_TOKEN_PURPOSE } };
    this.taskFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EncryptTaskTokens',
        actions: ['kms:Encrypt'],
        resources: [props.encryptionKey.keyArn],
        conditions: tokenContext,
      }),
    );
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DecryptTaskTokens',
        actions: ['kms:Decrypt'],
        resources: [props.encryptionKey.keyArn],
        conditions: tokenContext,
      }),
    );
    props.reviewQueue.grantSendMessages(this.taskFunction);
  }

  /**
   * The review API completes (and heartbeats) the review tasks of `stateMachine`: the only grant of SendTask* in
   * the stack. `workflowKeyStatement` lets it use the state machine's key for that state machine's data.
   */
  bindStateMachine(stateMachine: sfn.IStateMachine, workflowKeyStatement: iam.PolicyStatement): void {
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CompleteReviewTasks',
        actions: ['states:SendTaskSuccess', 'states:SendTaskHeartbeat'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
    this.apiFunction.addToRolePolicy(workflowKeyStatement);
  }

  /** What a reviewer needs: call this function URL (IAM-authenticated) and nothing else of the review path. */
  invokeStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'CallReviewApi',
      actions: ['lambda:InvokeFunctionUrl'],
      resources: [this.apiFunction.functionArn],
      conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
    });
  }
}
