/**
 * What each escalation function may do. The workflow steps and the expirer read and write the control table; the
 * functions the people's tools invoke get single-item reads and writes on the key prefixes they touch (no query,
 * scan or delete), so a reviewer or operator who may invoke one cannot reach beyond it. API Gateway grants depend on
 * `manageApiKeys`. docs/security.md explains the model.
 */
import { Aws } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CLUSTER_PK_PREFIX } from '../../src/escalate/cluster-case';
import { OUTBOX_PK_PREFIX, PK_PREFIX } from '../../src/shared/tables';
import type { EscalationTables } from './escalation';
import type { WorkflowFunctions } from './workflow-functions';

/** `dynamodb:LeadingKeys` patterns: every item under one partition-key prefix of the control table. */
const ANY = {
  account: `${PK_PREFIX.account}*`,
  case: `${PK_PREFIX.case}*`,
  allow: `${PK_PREFIX.allow}*`,
  feedback: `${PK_PREFIX.feedback}*`,
  outbox: `${OUTBOX_PK_PREFIX}*`,
};

export interface FunctionPoliciesProps extends EscalationTables {
  readonly reviewQueue: sqs.IQueue;
  readonly manageApiKeys: boolean;
}

/** Grants every function of `fns` what it needs, nothing more. */
export function grantWorkflowFunctions(fns: WorkflowFunctions, props: FunctionPoliciesProps): void {
  const table = props.controlTable;
  for (const fn of [fns.caseFunction, fns.suspensionFunction, fns.expirerFunction]) {
    table.grantReadWriteData(fn);
    props.tableEncryptionKey?.grantEncryptDecrypt(fn);
  }
  const tableKey = props.tableEncryptionKey ?? table.encryptionKey;
  const onKeys = (sid: string, actions: string[], leadingKeys: string[]) => leadingKeyStatement(sid, table, actions, leadingKeys);
  // Reinstatement reads and updates the account status and the case, appends an audit entry and an outbox
  // event, and counts the reviewer feedback.
  for (const s of [
    onKeys('ReadAccountAndCase', ['dynamodb:GetItem'], [ANY.account, ANY.case]),
    onKeys('UpdateAccountAndCase', ['dynamodb:UpdateItem'], [ANY.account, ANY.case]),
    onKeys('AppendAuditAndOutbox', ['dynamodb:PutItem'], [ANY.case, ANY.outbox]),
    onKeys('CountReviewerFeedback', ['dynamodb:PutItem', 'dynamodb:UpdateItem'], [ANY.feedback]),
  ]) {
    fns.reinstateFunction.addToRolePolicy(s);
  }
  tableKey?.grantEncryptDecrypt(fns.reinstateFunction);
  // Manual restriction: reads the account, its allowlist entry and breaker state; one transaction that checks the
  // allowlist entry, updates the account status and appends an audit entry and an outbox event.
  for (const s of [
    onKeys('ReadAccountAndAllowlist', ['dynamodb:GetItem', 'dynamodb:ConditionCheckItem'], [ANY.account, ANY.allow, ANY.case]),
    onKeys('UpdateAccountStatus', ['dynamodb:UpdateItem'], [ANY.account]),
    onKeys('AppendAuditAndOutbox', ['dynamodb:PutItem'], [ANY.case, ANY.outbox]),
  ]) {
    fns.restrictFunction.addToRolePolicy(s);
  }
  tableKey?.grantEncryptDecrypt(fns.restrictFunction);
  // The cluster decision reads and writes only cluster-case items (header, members, cluster audit entries).
  fns.clusterDecisionFunction.addToRolePolicy(
    onKeys('ClusterCaseItems', ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], [`${CLUSTER_PK_PREFIX}*`]),
  );
  tableKey?.grantEncryptDecrypt(fns.clusterDecisionFunction);
  props.featuresTable?.grantReadData(fns.caseFunction);
  // The expirer deletes review notifications of cases no longer waiting (lambdas/escalate/review-queue-sweeper.ts).
  props.reviewQueue.grantConsumeMessages(fns.expirerFunction);
  if (props.manageApiKeys) grantApiKeys(fns);
}

/** `actions` on the items of `table` whose partition key matches one of `leadingKeys` (LIKE patterns). */
export function leadingKeyStatement(sid: string, table: dynamodb.ITable, actions: string[], leadingKeys: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions,
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
  });
}

/** API keys are region-level resources: no narrower ARN exists. */
const API_KEY_ARNS = [`arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/apikeys`, `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/apikeys/*`];

/** Suspension, expiry and reinstatement disable and enable keys; a restriction only reads them (the account's own). */
function grantApiKeys(fns: WorkflowFunctions): void {
  const manage = new iam.PolicyStatement({ sid: 'ManageAccountApiKeys', actions: ['apigateway:GET', 'apigateway:PATCH'], resources: API_KEY_ARNS });
  for (const fn of [fns.suspensionFunction, fns.expirerFunction, fns.reinstateFunction]) fn.addToRolePolicy(manage);
  fns.restrictFunction.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadAccountApiKeys', actions: ['apigateway:GET'], resources: API_KEY_ARNS }));
}

/** GetUsagePlanKeys, CreateUsagePlanKey and DeleteUsagePlanKey on the given plans' keys, nothing else. */
export function usagePlanKeyStatement(planIds: string[]): iam.PolicyStatement {
  const keysOf = (id: string) => `arn:${Aws.PARTITION}:apigateway:${Aws.REGION}::/usageplans/${id}/keys`;
  return new iam.PolicyStatement({
    sid: 'MoveKeysBetweenUsagePlans',
    actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:DELETE'],
    resources: planIds.flatMap((id) => [keysOf(id), `${keysOf(id)}/*`]),
  });
}
