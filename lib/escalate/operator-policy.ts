/**
 * The statements of the operators' managed policy, scoped to exactly what the operator tools (the CLI and the web
 * console, through ops/ and lambdas/escalate/ with the operator's own credentials) write:
 *
 * | item | key | written by |
 * |---|---|---|
 * | allowlist entry | `ALLOW#<id>` / `ALLOW` | `allowlist add` (PutItem), `allowlist remove` (DeleteItem) |
 * | breaker state | `BREAKER` / `STATE` | `breaker rearm` (UpdateItem of the re-arm attributes only: never the hour counters) |
 * | shadow config | `CONFIG` / `SHADOW` | `review shadow` (PutItem) |
 * | ops audit entry | `CASE#OPS` / `AUDIT#...` | every one of the above, in the same transaction (PutItem); manual cases and re-opened cases (PutItem) |
 * | account status | `ACCOUNT#<id>` / `STATUS` | reinstatement, until it moves into a function the operator invokes |
 *
 * Each write is limited by `dynamodb:LeadingKeys` (partition key) and `dynamodb:Attributes` (the attributes the
 * tool writes), and explicit denies (which win over any other policy the operator holds) forbid:
 * - updating or deleting anything under `CASE#` (cases and their append-only audit trail), and putting anything
 *   there but a new ops audit entry;
 * - any write of `OUTBOX#` items, which the publisher would relay to every consumer as a real ban event;
 * - BatchWriteItem and PartiQL writes (unconditional bulk puts and deletes the tools never make).
 *
 * IAM cannot require a condition expression, so a PutItem under `CASE#OPS` could still overwrite an existing ops
 * audit entry; docs/security.md says so and how to close it (operator writes through functions).
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { OUTBOX_PK_PREFIX } from '../../src/notify/ban-event';
import { keys, PK_PREFIX } from '../../src/escalate/model';

/** Attributes of an audit entry (src/escalate/model.ts `AuditEntry`) plus its TTL. */
export const AUDIT_ATTRIBUTES = ['pk', 'sk', 'caseId', 'accountId', 'at', 'actor', 'action', 'reason', 'details', 'expiresAt', 'gsi1pk', 'gsi1sk'];
/** Attributes of an allowlist entry (lambdas/escalate/allowlist.ts allowlistAdd). */
export const ALLOW_ATTRIBUTES = ['pk', 'sk', 'accountId', 'owner', 'reason', 'expiresAt', 'createdAt', 'createdBy', 'gsi1pk', 'gsi1sk'];
/** What a re-arm writes on BREAKER/STATE (lambdas/escalate/breaker.ts rearmBreaker); the hourly counters stay out of reach. */
export const BREAKER_REARM_ATTRIBUTES = ['pk', 'sk', 'tripped', 'rearmedAt', 'rearmedBy', 'rearmReason'];
/** The CONFIG/SHADOW item (lambdas/escalate/shadow.ts setShadow). */
export const SHADOW_ATTRIBUTES = ['pk', 'sk', 'global', 'signals', 'updatedBy', 'updatedAt', 'reason'];
/** What reinstatement reads in its condition and writes on ACCOUNT#<id>/STATUS (lambdas/escalate/reinstatement.ts reinstate). */
export const REINSTATE_STATUS_ATTRIBUTES = [
  'pk',
  'sk',
  'status',
  'suspendedAt',
  'keysPendingEnable',
  'lastSuspensionEnd',
  'reinstatedAt',
  'reinstatedBy',
  'suspendedUntil',
  'disabledKeyIds',
  'gsi1pk',
  'gsi1sk',
];

/** A reviewer's claim on a case (ops/queue-query.ts claimCase/releaseClaim). */
export const CLAIM_ATTRIBUTES = ['pk', 'sk', 'caseId', 'claimedBy', 'claimedAt', 'expiresAt', 'gsi1pk', 'gsi1sk'];

const WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

export interface OperatorStatementsProps {
  readonly controlTable: dynamodb.ITable;
  /** Keys of the tables the operator reads and writes. */
  readonly tableKeys: kms.IKey[];
}

/** Only `actions` on the control table, only on partitions `leadingKeys`, only touching `attributes`. */
function scopedWrite(sid: string, table: dynamodb.ITable, actions: string[], leadingKeys: string[], attributes: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions,
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys },
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': attributes },
    },
  });
}

/**
 * The reviewer policy's one control-table write: claims (`CLAIM#<case>` / `CLAIM`, put and delete, claim attributes
 * only). A claim is advisory; IAM cannot tie `claimedBy` to the caller, so a reviewer could claim in another's
 * name, which shows in CloudTrail and blocks nothing but the `next` suggestion.
 */
export function reviewerTableStatements(table: dynamodb.ITable): iam.PolicyStatement[] {
  return [scopedWrite('ClaimCases', table, ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [`${PK_PREFIX.claim}*`], CLAIM_ATTRIBUTES)];
}

/** The operator policy's control-table statements (read, the scoped writes above, the denies, the table keys). */
export function operatorTableStatements(props: OperatorStatementsProps): iam.PolicyStatement[] {
  const table = props.controlTable;
  const opsAudit = `${PK_PREFIX.case}${keys.opsAuditCase()}`;
  return [
    new iam.PolicyStatement({
      sid: 'ReadControlTable',
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
      resources: [table.tableArn, `${table.tableArn}/index/*`],
    }),
    scopedWrite('OperateAllowlist', table, ['dynamodb:PutItem', 'dynamodb:DeleteItem'], [`${PK_PREFIX.allow}*`], ALLOW_ATTRIBUTES),
    scopedWrite('RearmBreaker', table, ['dynamodb:UpdateItem'], [keys.breakerState().pk], BREAKER_REARM_ATTRIBUTES),
    scopedWrite('SetShadowMode', table, ['dynamodb:PutItem'], [keys.shadowConfig().pk], SHADOW_ATTRIBUTES),
    scopedWrite('AppendOpsAuditEntries', table, ['dynamodb:PutItem'], [opsAudit], AUDIT_ATTRIBUTES),
    new iam.PolicyStatement({
      sid: 'DenyOutboxWrites',
      effect: iam.Effect.DENY,
      actions: WRITES,
      resources: [table.tableArn],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${OUTBOX_PK_PREFIX}*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyCaseAndAuditRewrites',
      effect: iam.Effect.DENY,
      actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [table.tableArn],
      conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${PK_PREFIX.case}*`] } },
    }),
    new iam.PolicyStatement({
      sid: 'DenyCasePutsButOpsAudit',
      effect: iam.Effect.DENY,
      actions: ['dynamodb:PutItem'],
      resources: [table.tableArn],
      conditions: {
        'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${PK_PREFIX.case}*`] },
        'ForAnyValue:StringNotEquals': { 'dynamodb:LeadingKeys': [opsAudit] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'DenyBulkWrites',
      effect: iam.Effect.DENY,
      actions: ['dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
      resources: [table.tableArn],
    }),
    ...(props.tableKeys.length
      ? [
          new iam.PolicyStatement({
            sid: 'UseTableKeys',
            actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:DescribeKey'],
            resources: props.tableKeys.map((k) => k.keyArn),
          }),
        ]
      : []),
  ];
}
