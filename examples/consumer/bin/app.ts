#!/usr/bin/env node
/**
 * The example consumer app. Deploy it in the CONSUMING team's account:
 *
 *   cd examples/consumer
 *   npx cdk deploy -c producerEventBusArn=arn:aws:events:eu-west-1:111111111111:event-bus/<bus> \
 *                  [-c mode=consumer-rule|producer-forwards] [-c detailTypes="Account Suspended,Account Reinstated"] \
 *                  [-c decidedBy=auto] [-c handler=false]
 */
import { App } from 'aws-cdk-lib';
import { BanEventsConsumerStack, SubscriptionMode } from '../lib/ban-events-consumer-stack';

const app = new App();
const list = (v: unknown): string[] | undefined =>
  typeof v === 'string' && v.trim()
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : Array.isArray(v)
      ? (v as string[])
      : undefined;

const producerEventBusArn = app.node.tryGetContext('producerEventBusArn') as string | undefined;
if (!producerEventBusArn) {
  throw new Error('set the producer bus: -c producerEventBusArn=arn:aws:events:<region>:<account>:event-bus/<name> (got nothing)');
}
new BanEventsConsumerStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'DistillGuardBanEventsConsumer', {
  producerEventBusArn,
  mode: (app.node.tryGetContext('mode') as SubscriptionMode | undefined) ?? 'consumer-rule',
  detailTypes: list(app.node.tryGetContext('detailTypes')),
  decidedBy: list(app.node.tryGetContext('decidedBy')),
  handler: String(app.node.tryGetContext('handler') ?? 'true') !== 'false',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
