/** A client for DynamoDB Local: its fixed region and dummy credentials, in one place for the benchmarks and tests. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export function localDynamoDb(endpoint: string, config: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' }, ...config });
}
