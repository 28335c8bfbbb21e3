/** DynamoDB Local + the features table (from the synthesized Aggregator construct) for aggregator tests. */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type RunningEmulator } from '../../local/emulators/dynamodb-local';
import { createFeaturesTable } from '../../bench/features-table';
import { localDynamoDb } from '../../bench/local-dynamodb';

export interface DdbFixture {
  emu: RunningEmulator;
  ddb: DynamoDBClient;
  /** Create a fresh features table with a unique name. */
  table(): Promise<string>;
  stop(): Promise<void>;
}

let n = 0;

export async function startDdb(): Promise<DdbFixture> {
  const emu = await startDynamoDbLocal();
  const ddb = localDynamoDb(emu.endpoint, { maxAttempts: 3 });
  return {
    emu,
    ddb,
    async table() {
      const name = `features-${process.pid}-${++n}`;
      await createFeaturesTable(ddb, name);
      return name;
    },
    async stop() {
      ddb.destroy();
      await emu.stop();
    },
  };
}

/**
 * The environment both aggregator handlers read in these tests: local credentials, the emulators' endpoints,
 * 30 days of feature retention and quiet Powertools that still emits metrics; `own` adds the handler's own.
 */
export function aggregatorEnv(ddbEndpoint: string, sqsEndpoint: string, own: Record<string, string>): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIALOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: ddbEndpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    FEATURE_RETENTION_DAYS: '30',
    POWERTOOLS_METRICS_NAMESPACE: 'DistillGuardTest',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'false',
    ...own,
  };
}

export async function dropTable(ddb: DynamoDBClient, name: string): Promise<void> {
  await ddb.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
}
