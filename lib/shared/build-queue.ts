/**
 * Every queue distill-guard creates is the same shape: SQS-KMS encryption with a customer-managed key, TLS only,
 * optionally a dead-letter queue under the same key. One helper builds that shape, after aws-solutions-constructs'
 * `buildQueue`, so a queue cannot be created without encryption or `enforceSSL` by forgetting a line.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** How long a queue keeps a message unless told otherwise: SQS's maximum, so a failure waits for a human. */
export const DEFAULT_QUEUE_RETENTION = Duration.days(14);

/** The dead-letter queue {@link buildQueue} creates in front of the queue. */
export interface DeadLetterQueueProps {
  /** Construct id of the dead-letter queue (in the same scope as the queue). */
  readonly id: string;
  /** Receives of a message before it moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /**
   * How long the dead-letter queue keeps a message.
   * @default DEFAULT_QUEUE_RETENTION (14 days)
   */
  readonly retentionPeriod?: Duration;
}

/** Props of {@link buildQueue}. */
export interface BuildQueueProps {
  /**
   * Key of the queue and of its dead-letter queue.
   * @default - a new key with rotation enabled, built from `keyProps`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Id and description of the key built when `encryptionKey` is not given (required then).
   * @default - no key is built
   */
  readonly keyProps?: { readonly id: string; readonly description: string };
  /**
   * How long the queue keeps a message.
   * @default DEFAULT_QUEUE_RETENTION (14 days)
   */
  readonly retentionPeriod?: Duration;
  /**
   * Visibility timeout of the queue.
   * @default - the SQS default (30 seconds)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Removal policy of the queue and of its dead-letter queue.
   * @default - the CDK default for queues (DESTROY)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A dead-letter queue for the queue, created before it.
   * @default - no dead-letter queue
   */
  readonly deadLetterQueue?: DeadLetterQueueProps;
}

export interface BuildQueueResult {
  readonly queue: sqs.Queue;
  /** Undefined unless `deadLetterQueue` was given. */
  readonly deadLetterQueue?: sqs.Queue;
  /** The key of both queues (the one given, or the one built). */
  readonly key: kms.IKey;
}

/** An encrypted, TLS-only queue `id` in `scope` (same construct ids as a `new sqs.Queue(scope, id)`). */
export function buildQueue(scope: Construct, id: string, props: BuildQueueProps): BuildQueueResult {
  const key = props.encryptionKey ?? newQueueKey(scope, props.keyProps);
  const encrypted = (retentionPeriod: Duration | undefined) => ({
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: retentionPeriod ?? DEFAULT_QUEUE_RETENTION,
    ...(props.removalPolicy !== undefined ? { removalPolicy: props.removalPolicy } : {}),
  });
  const dlqProps = props.deadLetterQueue;
  const deadLetterQueue = dlqProps ? new sqs.Queue(scope, dlqProps.id, encrypted(dlqProps.retentionPeriod)) : undefined;
  const queue = new sqs.Queue(scope, id, {
    ...encrypted(props.retentionPeriod),
    ...(props.visibilityTimeout ? { visibilityTimeout: props.visibilityTimeout } : {}),
    ...(deadLetterQueue && dlqProps ? { deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: dlqProps.maxReceiveCount } } : {}),
  });
  return { queue, deadLetterQueue, key };
}

function newQueueKey(scope: Construct, keyProps: BuildQueueProps['keyProps']): kms.IKey {
  if (!keyProps) throw new Error('buildQueue needs encryptionKey or keyProps, got neither');
  return new kms.Key(scope, keyProps.id, { enableKeyRotation: true, description: keyProps.description });
}
