/**
 * The ban-event bus and what guards it: the resource policies that let consumer accounts manage only their own
 * rules, the deny that keeps the `distill-guard` source to the stack's publishers, the archive, and the optional
 * producer-side forwarding. Each function creates its resources in the scope it is given (the BanEvents construct),
 * so the logical ids are those of the construct that used to build them inline.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { buildQueue } from '../shared/build-queue';
import { CONSUMER_RULE_ACTIONS } from './defaults';

/** Statement id of the bus policy that keeps the `distill-guard` source to the publisher and the sweeper. */
export const ONLY_PUBLISHERS_SID = 'OnlyDistillGuardPublishersPutItsEvents';

/** Who consumes ban events in other accounts: named accounts and/or an organization. */
export interface BanEventConsumers {
  readonly accountIds: string[];
  readonly organizationId?: string;
}

/** The IAM principal of the named consumer accounts (their account roots). */
export function consumerAccountsPrincipal(scope: Construct, accountIds: string[]): { AWS: string[] } {
  const stack = Stack.of(scope);
  return { AWS: accountIds.map((a) => stack.formatArn({ service: 'iam', region: '', account: a, resource: 'root' })) };
}

/** The bus given, or a new one encrypted with `key` (`eventBusProps` override the defaults). */
export function buildEventBus(
  scope: Construct,
  props: { existingEventBusObj?: events.IEventBus; eventBusProps?: events.EventBusProps },
  key: kms.IKey,
): events.IEventBus {
  return (
    props.existingEventBusObj ??
    new events.EventBus(scope, 'Bus', {
      description: 'distill-guard ban events (Account Flagged / Suspended / Reinstated)',
      kmsKey: key,
      ...props.eventBusProps,
    })
  );
}

/**
 * Cross-account rule management: each consumer creates, and can only touch, its own rules (AWS: "Example policy:
 * Send events to the same account and restrict updates", events:creatorAccount). Returns the policies in the order
 * they must be applied: policies on one bus are updated one at a time (concurrent PutPermission calls conflict).
 */
export function consumerRulePolicies(scope: Construct, bus: events.IEventBus, consumers: BanEventConsumers): events.CfnEventBusPolicy[] {
  const ruleArns = Stack.of(scope).formatArn({ service: 'events', resource: 'rule', resourceName: `${bus.eventBusName}/*` });
  const creatorIsCaller = { StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}' } };
  const manageOwnRules = (id: string, sid: string, principal: unknown, condition: Record<string, unknown>) =>
    new events.CfnEventBusPolicy(scope, id, {
      eventBusName: bus.eventBusName,
      statementId: sid,
      statement: { Sid: sid, Effect: 'Allow', Principal: principal, Action: CONSUMER_RULE_ACTIONS, Resource: ruleArns, Condition: condition },
    });
  const policies: events.CfnEventBusPolicy[] = [];
  if (consumers.accountIds.length) {
    policies.push(
      manageOwnRules(
        'ConsumerAccountsRulesPolicy',
        'ConsumerAccountsManageOwnRules',
        consumerAccountsPrincipal(scope, consumers.accountIds),
        creatorIsCaller,
      ),
    );
  }
  if (consumers.organizationId) {
    // Principal '*' is narrowed by aws:PrincipalOrgID.
    policies.push(
      manageOwnRules('OrganizationRulesPolicy', 'OrganizationManageOwnRules', '*', {
        ...creatorIsCaller,
        StringEquals: { 'aws:PrincipalOrgID': consumers.organizationId },
      }),
    );
  }
  chainPolicies(policies);
  return policies;
}

/** Makes each policy wait for the one before it. */
function chainPolicies(policies: events.CfnEventBusPolicy[]): void {
  for (let i = 1; i < policies.length; i++) policies[i].node.addDependency(policies[i - 1]);
}

/**
 * Only the publishers may put `source` events on the bus. Consumers act on these events (suspend, bill, revoke):
 * any other principal with events:PutEvents in the account could otherwise forge one. An explicit deny in the bus
 * policy wins over any identity policy. Applied after `after` (the other policies of the bus).
 */
export function onlyPublishersPolicy(
  scope: Construct,
  bus: events.IEventBus,
  source: string,
  publisherRoles: iam.IRole[],
  after: events.CfnEventBusPolicy[],
): events.CfnEventBusPolicy {
  const policy = new events.CfnEventBusPolicy(scope, 'OnlyPublishersPolicy', {
    eventBusName: bus.eventBusName,
    statementId: ONLY_PUBLISHERS_SID,
    statement: {
      Sid: ONLY_PUBLISHERS_SID,
      Effect: 'Deny',
      Principal: '*',
      Action: 'events:PutEvents',
      Resource: bus.eventBusArn,
      Condition: {
        StringEquals: { 'events:source': source },
        ArnNotEquals: { 'aws:PrincipalArn': publisherRoles.map((r) => r.roleArn) },
      },
    },
  });
  if (after.length) policy.node.addDependency(after[after.length - 1]);
  return policy;
}

/**
 * The archive of every ban event, for replay. It has its own key: the archive's key policy names the bus ARN
 * (GetAtt), and the bus names its key, so one shared key would be a CloudFormation dependency cycle.
 */
export function buildArchive(
  scope: Construct,
  bus: events.IEventBus,
  eventPattern: events.EventPattern,
  retention: Duration,
): { archive: events.Archive; archiveKey: kms.Key } {
  const archiveKey = new kms.Key(scope, 'ArchiveKey', { enableKeyRotation: true, description: 'distill-guard ban event archive' });
  const archive = new events.Archive(scope, 'Archive', {
    sourceEventBus: bus,
    description: 'every distill-guard ban event, for replay (docs/events.md)',
    eventPattern,
    retention,
    kmsKey: archiveKey,
  });
  return { archive, archiveKey };
}

/**
 * Producer-side forwarding: a rule per target bus, owned by this stack, with a dead-letter queue under `key` for
 * what EventBridge cannot deliver.
 */
export function forwardBanEvents(scope: Construct, bus: events.IEventBus, key: kms.IKey, eventPattern: events.EventPattern, busArns: string[]): void {
  if (!busArns.length) return;
  const { queue: forwardDlq } = buildQueue(scope, 'ForwardFailures', { encryptionKey: key });
  // EventBridge writes undeliverable events to the DLQ; the queue's CMK must let it.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowEventBridgeToUseForwardDlqKey',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'], // a key policy's resource is always the key itself
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  busArns.forEach((arn, i) => {
    new events.Rule(scope, `Forward${i}`, {
      eventBus: bus,
      description: `distill-guard: forward ban events to ${arn}`,
      eventPattern,
      targets: [new eventsTargets.EventBus(events.EventBus.fromEventBusArn(scope, `ForwardBus${i}`, arn), { deadLetterQueue: forwardDlq })],
    });
  });
}
