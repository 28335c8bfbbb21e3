/**
 * A local Amazon EventBridge endpoint (AWS JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`), so the real
 * `@aws-sdk/client-eventbridge` works against it via `endpoint` or `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 *
 * EventBridge has no maintained emulator on npm, so this is hand-written. It implements event buses, rules with
 * event patterns (./event-pattern.ts), targets, and delivery:
 * - SQS queue ARN -> SendMessage to the local SQS emulator (real `@aws-sdk/client-sqs`; queue resolved by name),
 * - Lambda function ARN -> the `invokeLambda` callback the local runtime registers,
 * - Step Functions state machine ARN -> StartExecution on the local Step Functions endpoint,
 * - event bus ARN -> PutEvents onto that local bus.
 * Delivery is asynchronous (after PutEvents returns, as in AWS) with a few retries; every delivery attempt is
 * recorded in memory per rule (`delivered()`), and every accepted event per bus (`events()`), for tests and
 * `distill-guard events tail`. `GET /_local/events?bus=NAME&after=SEQ` exposes the bus log to other processes.
 *
 * Failure injection for tests: `injectFailures({ count })` fails the next N otherwise-valid entries of PutEvents
 * (partial failure, per-entry ErrorCode, FailedEntryCount), `injectFailures({ predicate })` fails matching
 * entries, and `failNextRequests(n)` makes whole PutEvents calls fail with a 500 (total failure).
 *
 * Not emulated: IAM / resource policies (the endpoint only checks a SigV4 header is present), schedules (the
 * local runtime runs ScheduleExpression rules itself), archives and replays, API destinations, input
 * transformers beyond `InputPathsMap` + `InputTemplate`, DLQs on targets.
 *
 * This file composes the parts in ./eventbridge/: the bus and rule registry (registry.ts), PutEvents validation,
 * routing and failure injection (put-events.ts), target delivery (delivery.ts), target input (input.ts), the
 * event and delivery log (activity-log.ts) and the wire API (wire-api.ts).
 */
import { randomUUID } from 'crypto';
import { listen, LOCAL_ACCOUNT_ID } from './aws-http';
import { ActivityLog } from './eventbridge/activity-log';
import { TargetDelivery } from './eventbridge/delivery';
import { EventIngest, FailureInjector, isoSeconds } from './eventbridge/put-events';
import { BusRegistry, busNameOf } from './eventbridge/registry';
import { LocalEventBridge, LocalEventBridgeOptions } from './eventbridge/types';
import { eventBridgeHandler } from './eventbridge/wire-api';

export * from './eventbridge/types';
export { simpleJsonPath } from './eventbridge/input';

/** Start the local EventBridge endpoint. */
export async function startEventBridge(opts: LocalEventBridgeOptions = {}): Promise<LocalEventBridge> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const account = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const registry = new BusRegistry(region, account);
  const log = new ActivityLog(opts.historyLimit ?? 10000);
  const failures = new FailureInjector();
  const delivery: TargetDelivery = new TargetDelivery(log, {
    sqsEndpoint: opts.sqsEndpoint,
    sfnEndpoint: opts.sfnEndpoint,
    invokeLambda: opts.invokeLambda,
    attempts: opts.deliveryAttempts ?? 3,
    forward: (entry) => ingest.accept([entry], false),
  });
  const ingest = new EventIngest(region, account, registry, log, failures, delivery);
  const ep = await listen(eventBridgeHandler(registry, ingest, failures, log), opts.port ?? 0);

  return {
    endpoint: ep.endpoint,
    port: ep.port,
    stop: async () => {
      await delivery.stop();
      await ep.stop();
    },
    setLambdaInvoker: (inv) => delivery.setLambdaInvoker(inv),
    injectFailures: (inj) => failures.injectFailures(inj),
    failNextRequests: (n, code) => failures.failNextRequests(n, code),
    clearFailures: () => failures.clear(),
    delivered: (ruleName, busName) => log.delivered(ruleName, busName),
    events: (busName, afterSeq) => log.events(busName, afterSeq),
    subscribe: (l) => log.subscribe(l),
    idle: () => delivery.idle(),
    rules: (busName) => registry.allRules().filter((r) => !busName || r.EventBusName === busNameOf(busName)),
    putEvents: (entries) => ingest.accept(entries, true),
    fireRule: (ruleName, busName, partial = {}) => {
      const rule = registry.findRule(busNameOf(busName), ruleName);
      if (!rule) throw new Error(`rule ${ruleName} not found on bus ${busNameOf(busName)}`);
      delivery.deliver(rule, {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account,
        time: isoSeconds(new Date()),
        region,
        resources: [rule.Arn],
        detail: {},
        ...partial,
      });
    },
  };
}
