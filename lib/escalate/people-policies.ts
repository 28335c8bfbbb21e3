/**
 * The managed policies for the people who work the review queue. Reviewers decide cases through the review API
 * (IAM-signed, so the recorded reviewer is the caller) and read cases; operators also run the allowlist, the
 * breaker, shadow mode and invoke reinstatement and restriction. Neither holds SendTask* or an API Gateway key
 * permission of its own: the stack's functions do those, with their audit entries (docs/security.md).
 */
import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { operatorTableStatements, reviewerTableStatements } from './operator-policy';
import type { EscalationTables } from './escalation';
import { ReviewApi } from './review-api';

export interface PeoplePoliciesProps extends EscalationTables {
  readonly stateMachine: sfn.IStateMachine;
  readonly reviewApi: ReviewApi;
  /** Use of the workflow key for the state machine's data (what reading executions needs). */
  readonly workflowKeyStatement: iam.PolicyStatement;
  readonly clusterDecisionFunction: lambda.IFunction;
  readonly reinstateFunction: lambda.IFunction;
  readonly restrictFunction: lambda.IFunction;
}

const allow = (sid: string, actions: string[], resources: string[]) => new iam.PolicyStatement({ sid, actions, resources });

/** `ReviewerPolicy` and `OperatorPolicy`, in `scope`. */
export function buildPeoplePolicies(
  scope: Construct,
  props: PeoplePoliciesProps,
): { reviewerPolicy: iam.ManagedPolicy; operatorPolicy: iam.ManagedPolicy } {
  const stack = Stack.of(scope);
  const describeStack = allow(
    'DiscoverStackResources',
    ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResources'],
    [stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` })],
  );
  const tableKeys = [props.tableEncryptionKey, props.controlTable.encryptionKey, props.featuresTable?.encryptionKey].filter(
    (k): k is kms.IKey => !!k,
  );
  const reviewerPolicy = new iam.ManagedPolicy(scope, 'ReviewerPolicy', {
    description: 'distill-guard reviewers: decide review cases through the review API (IAM-signed), read cases',
    statements: [describeStack],
  });
  reviewerPolicy.addStatements(...reviewerStatements(props, tableKeys));

  // Scoped by key prefix and attributes to what the operator tools write; denies on cases, audit and outbox
  // (lib/escalate/operator-policy.ts, docs/security.md).
  const operatorPolicy = new iam.ManagedPolicy(scope, 'OperatorPolicy', {
    description: 'distill-guard operators: allowlist, breaker re-arm, shadow mode, reinstatement (with the ReviewerPolicy)',
    statements: [
      describeStack,
      // Reinstatement goes through the function (keys, status, audit, event together); operators hold no
      // API Gateway key permission of their own.
      allow('InvokeReinstatement', ['lambda:InvokeFunction'], [props.reinstateFunction.functionArn]),
      // Manual cases (suspend an account no case covers) and re-opened overdue cases start this workflow; a
      // reviewer still decides them.
      allow('StartManualCases', ['states:StartExecution'], [props.stateMachine.stateMachineArn]),
      allow('InvokeRestriction', ['lambda:InvokeFunction'], [props.restrictFunction.functionArn]),
      ...operatorTableStatements({ controlTable: props.controlTable, tableKeys }),
    ],
  });
  return { reviewerPolicy, operatorPolicy };
}

function reviewerStatements(props: PeoplePoliciesProps, tableKeys: kms.IKey[]): iam.PolicyStatement[] {
  const tableArns = (t: dynamodb.ITable) => [t.tableArn, `${t.tableArn}/index/*`];
  const readTables = [props.controlTable, ...(props.featuresTable ? [props.featuresTable] : [])].flatMap(tableArns);
  return [
    // Decisions go through the review API, which records the signed caller; reviewers hold no SendTask*.
    props.reviewApi.invokeStatement(),
    allow('ReadExecutions', ['states:DescribeStateMachine', 'states:ListExecutions'], [props.stateMachine.stateMachineArn]),
    // A cluster decision is recorded by the stack's function: reviewers still write nothing in the tables but claims.
    allow('RecordClusterDecisions', ['lambda:InvokeFunction'], [props.clusterDecisionFunction.functionArn]),
    props.workflowKeyStatement,
    allow(
      'ReadCases',
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable', 'dynamodb:ConditionCheckItem'],
      readTables,
    ),
    ...(tableKeys.length
      ? [
          allow(
            'DecryptTables',
            ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
            tableKeys.map((k) => k.keyArn),
          ),
        ]
      : []),
    ...reviewerTableStatements(props.controlTable),
  ];
}
