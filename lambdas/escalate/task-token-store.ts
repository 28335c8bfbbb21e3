/**
 * The review task's token, kept with its case: encrypted with the stack's key under an encryption context that
 * names the case, so a ciphertext copied to another case does not decrypt, and only a role granted kms:Decrypt
 * for that context (the review API's) can read it. No tool scans the review queue for tokens any more.
 *
 * Also the signed decision: the review API writes who decided (the caller identity from the signed request) on the
 * case before it completes the task, and RecordReview reads it from there, never from the task output.
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TASK_TOKEN_PURPOSE, keys } from '../../src/escalate/model';
import { EscalationStore, OperatorError } from './store';

/** Part of the error while a case entered review but its task token is not stored yet (the tools retry on it). */
export const NOT_STORED_YET = 'the review task is starting';

/** What the review API records on the case when a signed caller decides. */
export interface SignedDecision {
  approved: boolean;
  /** The caller's ARN from the signed request's context (never from the request body). */
  reviewer: string;
  reason: string;
  decidedAt: string;
  /** What an approval applies: `restrict` instead of a suspension (absent: suspend). */
  action?: 'suspend' | 'restrict';
  /** Set when the approval is one member's share of a cluster decision (the cluster case it came from). */
  clusterCaseId?: string;
}

export interface StoredReviewTask {
  /** Base64 KMS ciphertext of the task token. */
  ciphertext: string;
  executionArn?: string;
  storedAt: string;
}

export class TaskTokenStore {
  constructor(
    readonly store: EscalationStore,
    readonly kms: KMSClient = new KMSClient({}),
    /** The stack's key (id or ARN); only needed to encrypt. */
    readonly keyId?: string,
  ) {}

  private context(caseId: string) {
    return { caseId, purpose: TASK_TOKEN_PURPOSE };
  }

  /** Encrypt the token and keep it on the case, which must be waiting for review. */
  async save(caseId: string, taskToken: string, executionArn?: string): Promise<void> {
    if (!this.keyId) throw new Error('the task token key is not configured (TASK_TOKEN_KEY_ID)');
    if (typeof taskToken !== 'string' || !taskToken) throw new Error(`a task token is required, got ${JSON.stringify(taskToken)}`);
    const enc = await this.kms.send(
      new EncryptCommand({ KeyId: this.keyId, Plaintext: new TextEncoder().encode(taskToken), EncryptionContext: this.context(caseId) }),
    );
    const task: StoredReviewTask = {
      ciphertext: Buffer.from(enc.CiphertextBlob!).toString('base64'),
      storedAt: new Date(this.store.now()).toISOString(),
      ...(executionArn ? { executionArn } : {}),
    };
    // A new review task (e.g. the breaker sent an approved case back to review) supersedes an earlier decision.
    await this.updateInReview(caseId, 'SET reviewTask = :t REMOVE reviewDecision', { ':t': task });
  }

  /** An update of a case that holds only while the case waits for review (`state = review`, plus `andCondition`). */
  private async updateInReview(caseId: string, update: string, values: Record<string, unknown>, andCondition = ''): Promise<void> {
    await this.store.ddb.send(
      new UpdateCommand({
        TableName: this.store.table,
        Key: keys.case(caseId),
        UpdateExpression: update,
        ConditionExpression: `#st = :review${andCondition}`,
        ExpressionAttributeNames: { '#st': 'state' },
        ExpressionAttributeValues: { ...values, ':review': 'review' },
      }),
    );
  }

  /** The plaintext token of a case waiting for review. */
  async load(caseId: string): Promise<string> {
    const c = (await this.store.requireCase(caseId)) as {
      state: string;
      outcome?: string;
      reviewTask?: StoredReviewTask;
      reviewDecision?: SignedDecision;
    };
    if (c.state !== 'review')
      throw new OperatorError(`case ${caseId} is not waiting for review (state ${c.state}${c.outcome ? `, outcome ${c.outcome}` : ''})`);
    const prev = c.reviewDecision;
    if (prev) throw new OperatorError(`case ${caseId} was already decided by ${prev.reviewer} at ${prev.decidedAt} (approved ${prev.approved})`);
    if (!c.reviewTask?.ciphertext)
      throw new OperatorError(`case ${caseId} has no stored review task yet (${NOT_STORED_YET}); retry in a few seconds`);
    const dec = await this.kms.send(
      new DecryptCommand({ CiphertextBlob: Buffer.from(c.reviewTask.ciphertext, 'base64'), EncryptionContext: this.context(caseId) }),
    );
    return new TextDecoder().decode(dec.Plaintext);
  }

  /**
   * Record the signed decision on a case waiting for review. Returns the decision in force: this one, or the same
   * caller's earlier identical one (a retry). Another decision already recorded is refused.
   */
  async recordDecision(caseId: string, d: SignedDecision): Promise<SignedDecision> {
    try {
      await this.updateInReview(caseId, 'SET reviewDecision = :d', { ':d': d }, ' AND attribute_not_exists(reviewDecision)');
      return d;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    }
    const c = (await this.store.requireCase(caseId)) as { state: string; reviewDecision?: SignedDecision };
    const prev = c.reviewDecision;
    if (c.state === 'review' && prev && prev.reviewer === d.reviewer && prev.approved === d.approved && prev.reason === d.reason) return prev;
    if (prev) throw new OperatorError(`case ${caseId} was already decided by ${prev.reviewer} at ${prev.decidedAt} (approved ${prev.approved})`);
    throw new OperatorError(`case ${caseId} is not waiting for review (state ${c.state})`);
  }
}
