import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CONTROL_BY_STATE_INDEX, GSI_PK, GSI_SK } from '../../src/shared/tables';

/** Props for {@link ControlTable}. */
export interface ControlTableProps {
  /**
   * Customer-managed key for the table. Mutually exclusive with nothing; when absent one is created.
   * @default a new KMS key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table when the stack is deleted. Cases and the audit trail live here.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Name of the GSI that lists cases by state (`gsi1pk = CASES#<state>`, `gsi1sk = createdAt`); the schema is src/shared/tables.ts. */
export { CONTROL_BY_STATE_INDEX };

/**
 * The control-plane table (single-table design; keys in docs/DESIGN.md): account status, scores, cases and
 * their append-only audit trail, the allowlist, the suspension breaker, shadow config and the transactional
 * outbox. Its stream (NEW_IMAGE) feeds the ban-event publisher.
 */
export class ControlTable extends Construct {
  readonly table: dynamodb.Table;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ControlTableProps = {}) {
    super(scope, id);
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'distill-guard control table (cases, audit trail, account status, outbox)',
      });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: CONTROL_BY_STATE_INDEX,
      partitionKey: { name: GSI_PK, type: dynamodb.AttributeType.STRING },
      sortKey: { name: GSI_SK, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
