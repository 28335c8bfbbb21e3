/**
 * The stack's key: one customer-managed KMS key per stack for the data that has no stage key of its own: every
 * function's log group and the workflow's log group, the escalation state machine's definition and execution
 * history, and the IP-hash key secret. Created on first use at the stack root, so a construct used on its own (in
 * another app's stack) gets one too, and the whole app shares one.
 *
 * Its key policy lets CloudWatch Logs use it for this account's log groups only (`kms:EncryptionContext:aws:logs:arn`),
 * the documented confused-deputy guard; everything else is granted through IAM with encryption-context conditions.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

/** Construct id of the key at the stack root. */
export const STACK_KEY_ID = 'DistillGuardKey';

/** The stack's key (created the first time a construct of the stack asks for it). */
export function stackKey(scope: IConstruct): kms.Key {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(STACK_KEY_ID);
  if (existing) return existing as kms.Key;
  const key = new kms.Key(stack, STACK_KEY_ID, {
    description: 'distill-guard: function and workflow log groups, escalation state machine data, IP-hash key secret',
    enableKeyRotation: true,
    pendingWindow: Duration.days(30),
  });
  allowCloudWatchLogs(key);
  return key;
}

/** Let CloudWatch Logs encrypt this account's log groups (in this region) with `key`. */
export function allowCloudWatchLogs(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      // In a key policy `*` means "this key"; there is nothing narrower.
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
