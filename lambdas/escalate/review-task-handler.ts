/**
 * The Review state (`lambda:invoke.waitForTaskToken`): keeps the task token with its case, encrypted with the
 * stack's key (./task-token-store.ts), and posts a notification on the review queue WITHOUT the token. Reviewers
 * decide through the review API (./review-api-handler.ts), which alone may complete the task.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { logger } from '../shared/powertools';
import { storeFromEnv } from './store';
import { TaskTokenStore } from './task-token-store';
import { requireEnv } from '../shared/env';

export interface ReviewTaskEvent {
  taskToken: string;
  caseId: string;
  accountId: string;
  decision?: string;
  score?: number;
  reasons?: string[];
  deadline?: string;
  executionArn?: string;
}

let tokens: TaskTokenStore | undefined;
let sqs: SQSClient | undefined;

export async function handler(event: ReviewTaskEvent): Promise<{ stored: true }> {
  const queueUrl = requireEnv('REVIEW_QUEUE_URL');
  tokens ??= new TaskTokenStore(storeFromEnv(), undefined, requireEnv('TASK_TOKEN_KEY_ID'));
  sqs ??= new SQSClient({});
  const caseId = String(event?.caseId ?? '');
  logger.appendKeys({ caseId, accountId: event?.accountId, step: 'review' });
  try {
    await tokens.save(caseId, event.taskToken, event.executionArn);
    // A notification for whoever watches the queue; the token stays with the case. Best effort: the review does
    // not depend on it, and failing here would retry the task with a new token.
    const { taskToken: _omit, ...notice } = event;
    void _omit;
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(notice) })).catch((err: Error) => {
      logger.error('review notification not sent', { error: err.message });
    });
    logger.info('review task stored', { deadline: event.deadline });
    return { stored: true };
  } finally {
    logger.resetKeys();
  }
}
