import { DynamoDBClient, UpdateItemCommand, BatchGetItemCommand, QueryCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '/work/main/local/emulators/dynamodb-local';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
(async () => {
  const emu = await startDynamoDbLocal();
  const ddb = new DynamoDBClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  for (const proj of ['ALL', 'KEYS_ONLY'] as const) {
    const T = 't' + proj;
    await ddb.send(new CreateTableCommand({ TableName: T, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'S' }],
      GlobalSecondaryIndexes: [{ IndexName: 'gix', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: proj } }] }));
    const big = 'x'.repeat(1500);
    for (let i = 0; i < 3; i++) {
      const r = await ddb.send(new UpdateItemCommand({ TableName: T, Key: { pk: { S: 'a' }, sk: { S: 'b' } }, UpdateExpression: 'SET g = :g, big = :b ADD n :one', ExpressionAttributeValues: { ':g': { S: 'G' }, ':b': { S: big }, ':one': { N: '1' } }, ReturnConsumedCapacity: 'INDEXES' }));
      console.log(proj, i, JSON.stringify(r.ConsumedCapacity));
    }
    const q = await ddb.send(new QueryCommand({ TableName: T, IndexName: 'gix', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'G' } }, ReturnConsumedCapacity: 'INDEXES' }));
    console.log('query', JSON.stringify(q.ConsumedCapacity), JSON.stringify(q.Items));
    const b = await ddb.send(new BatchGetItemCommand({ RequestItems: { [T]: { Keys: [{ pk: { S: 'a' }, sk: { S: 'b' } }] } }, ReturnConsumedCapacity: 'INDEXES' }));
    console.log('bget', JSON.stringify(b.ConsumedCapacity));
  }
  ddb.destroy(); await emu.stop();
})();
