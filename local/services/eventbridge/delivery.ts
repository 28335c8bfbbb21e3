/**
 * Target delivery: each matched rule's targets get the event asynchronously (after PutEvents returns, as in AWS),
 * with a few attempts, and every delivery is recorded. SQS queues and state machines are reached through the
 * real AWS SDK v3 clients against the emulators, Lambda functions through the invoker the runtime registers, and
 * another bus through `forward`.
 */
import { SQSClient, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { localClientConfig } from '../clients';
import { ActivityLog } from './activity-log';
import { transformInput } from './input';
import { DeliveryRecord, EventEnvelope, LambdaTargetInvoker, PutEventsEntry, PutEventsResult, RuleDefinition, TargetDefinition } from './types';

export interface TargetDeliveryOptions {
  readonly sqsEndpoint?: string;
  readonly sfnEndpoint?: string;
  readonly invokeLambda?: LambdaTargetInvoker;
  /** Attempts per target before the failure is recorded. */
  readonly attempts: number;
  /** Puts an event onto another local bus (no failure injection), answering as PutEvents does. */
  readonly forward: (entry: PutEventsEntry) => PutEventsResult;
}

export class TargetDelivery {
  private readonly pending = new Set<Promise<void>>();
  private readonly queueUrls = new Map<string, string>();
  private sqs?: SQSClient;
  private sfn?: SFNClient;
  private lambdaInvoker?: LambdaTargetInvoker;

  constructor(
    private readonly log: ActivityLog,
    private readonly opts: TargetDeliveryOptions,
  ) {
    this.lambdaInvoker = opts.invokeLambda;
  }

  setLambdaInvoker(invoker: LambdaTargetInvoker | undefined): void {
    this.lambdaInvoker = invoker;
  }

  /** Deliver the event to every target of the rule (in the background; see `idle`). */
  deliver(rule: RuleDefinition, event: EventEnvelope): void {
    for (const target of rule.targets.values()) {
      const p = this.deliverWithRetries(rule, target, event);
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }

  /** Resolves when every delivery started so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.sqs?.destroy();
    this.sfn?.destroy();
  }

  private async deliverWithRetries(rule: RuleDefinition, target: TargetDefinition, event: EventEnvelope): Promise<void> {
    let attempts = 0;
    let error: string | undefined;
    let payload: unknown;
    while (attempts < this.opts.attempts) {
      attempts++;
      try {
        payload = await this.deliverToTarget(target, event, rule.EventBusName, rule.Name);
        error = undefined;
        break;
      } catch (err) {
        error = String((err as Error)?.message ?? err);
        if (attempts < this.opts.attempts) await new Promise((r) => setTimeout(r, 50 * attempts));
      }
    }
    const record: DeliveryRecord = {
      seq: this.log.nextSeq(),
      busName: rule.EventBusName,
      ruleName: rule.Name,
      targetId: target.Id,
      targetArn: target.Arn,
      event,
      payload,
      ok: error === undefined,
      attempts,
      ...(error !== undefined ? { error } : {}),
      at: new Date().toISOString(),
    };
    this.log.recordDelivery(record);
  }

  private async deliverToTarget(target: TargetDefinition, event: EventEnvelope, bus: string, rule: string): Promise<unknown> {
    const { payload, body } = transformInput(target, event);
    const arn = target.Arn;
    const parts = arn.split(':');
    const service = parts[2];
    if (service === 'sqs') {
      await this.sendToQueue(parts[5], body, target, event);
    } else if (service === 'lambda') {
      if (!this.lambdaInvoker) throw new Error(`no local lambda invoker registered for target ${arn}`);
      await this.lambdaInvoker(arn, payload, { rule, bus, targetId: target.Id });
    } else if (service === 'states') {
      this.sfn ??= new SFNClient(localClientConfig('sfn', this.opts.sfnEndpoint));
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: body }));
    } else if (service === 'events' && parts[5]?.startsWith('event-bus/')) {
      const entry = {
        Source: event.source,
        DetailType: event['detail-type'],
        Detail: JSON.stringify(event.detail),
        Resources: event.resources,
        EventBusName: arn,
      };
      const res = this.opts.forward(entry);
      if (res.FailedEntryCount) throw new Error(`forwarding to ${arn} failed: ${res.Entries[0].ErrorMessage}`);
    } else {
      throw new Error(`target type of ${arn} is not emulated locally`);
    }
    return payload;
  }

  private async sendToQueue(queueName: string, body: string, target: TargetDefinition, event: EventEnvelope): Promise<void> {
    const sqs = (this.sqs ??= new SQSClient(localClientConfig('sqs', this.opts.sqsEndpoint)));
    let url = this.queueUrls.get(queueName);
    if (!url) {
      url = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!;
      this.queueUrls.set(queueName, url);
    }
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        ...(target.SqsParameters?.MessageGroupId ? { MessageGroupId: target.SqsParameters.MessageGroupId, MessageDeduplicationId: event.id } : {}),
      }),
    );
  }
}
