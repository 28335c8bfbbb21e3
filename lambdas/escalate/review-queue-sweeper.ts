/**
 * Keeps the review queue to the cases that still wait: run by the scheduled expirer, it deletes the notifications of
 * cases that are closed, overdue or unknown, and hides the others until their deadline (at most 12 hours, the SQS
 * limit), so a waiting case's message is received a few times over its whole review, far below the redrive limit.
 * The messages carry no task token (the token is stored with the case); the queue is a notification only.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EscalationStore } from './store';

const MAX_VISIBILITY_S = 12 * 3600;

export interface SweepResult {
  deleted: number;
  kept: number;
}

/** One sweep: at most `maxBatches` receives of 10 messages. */
export async function sweepReviewNotifications(store: EscalationStore, sqs: SQSClient, queueUrl: string, maxBatches = 10): Promise<SweepResult> {
  const out: SweepResult = { deleted: 0, kept: 0 };
  for (let i = 0; i < maxBatches; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) break;
    for (const m of msgs) {
      const hideFor = await secondsUntilDeadline(store, m);
      if (hideFor === undefined) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        out.deleted++;
      } else {
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: hideFor }));
        out.kept++;
      }
    }
  }
  return out;
}

/** How long to hide the message of a case still in review; undefined when the message should go. */
async function secondsUntilDeadline(store: EscalationStore, m: Message): Promise<number | undefined> {
  let caseId: unknown;
  try {
    caseId = (JSON.parse(m.Body ?? '{}') as { caseId?: unknown }).caseId;
  } catch {
    return undefined; // not a review notification
  }
  if (typeof caseId !== 'string') return undefined;
  const c = await store.getCase(caseId).catch(() => undefined);
  if (!c || c.state !== 'review') return undefined;
  const left = c.reviewDeadline ? Math.ceil((Date.parse(c.reviewDeadline) - store.now()) / 1000) + 60 : MAX_VISIBILITY_S;
  return Math.max(60, Math.min(MAX_VISIBILITY_S, Number.isFinite(left) ? left : MAX_VISIBILITY_S));
}
