/** DynamoDB Local + the features table (from the synthesized Aggregator construct) for aggregator tests. */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type RunningEmulator } from '../../local/emulators/dynamodb-local';
import { createFeaturesTable } from '../../bench/features-table';

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
  const ddb = new DynamoDBClient({
    endpoint: emu.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
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

export async function dropTable(ddb: DynamoDBClient, name: string): Promise<void> {
  await ddb.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
}
