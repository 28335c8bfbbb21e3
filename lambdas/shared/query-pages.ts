/**
 * Every page of a DynamoDB Query, for the stores that read a whole partition of an index. `input` is a function
 * when the next page's request depends on what was read so far (a shrinking `Limit`).
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';

/** The pages of a Query, one response at a time; stop iterating to stop reading. */
export async function* queryPages(
  doc: Pick<DynamoDBDocumentClient, 'send'>,
  input: QueryCommandInput | (() => QueryCommandInput),
): AsyncGenerator<QueryCommandOutput> {
  let start: Record<string, unknown> | undefined;
  do {
    const q = typeof input === 'function' ? input() : input;
    const r = await doc.send(new QueryCommand({ ...q, ExclusiveStartKey: start }));
    yield r;
    start = r.LastEvaluatedKey;
  } while (start);
}
