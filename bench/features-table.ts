/**
 * Create the features table in a local DynamoDB exactly as the Aggregator construct defines it: the construct
 * is synthesized (bundling skipped) and the table's key schema, attribute definitions and indexes are read from
 * the template, so tests and the benchmark never hand-write a second copy of the table.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Template } from 'aws-cdk-lib/assertions';
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Aggregator } from '../lib/aggregate/aggregator';
import type { FeaturesIndexProjection } from '../lib/aggregate/defaults';

const cached = new Map<string, Omit<CreateTableCommandInput, 'TableName'>>();

/** The table of the Aggregator construct, with its default `byHour` projection or the one given. */
export function featuresTableDefinition(byHourProjection?: FeaturesIndexProjection): Omit<CreateTableCommandInput, 'TableName'> {
  const hit = cached.get(byHourProjection ?? '');
  if (hit) return hit;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'FeaturesTableDefinition');
  const stream = new kinesis.Stream(stack, 'Stream');
  new Aggregator(stack, 'Aggregate', { stream, byHourProjection });
  const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
  const ids = Object.keys(tables);
  if (ids.length !== 1) throw new Error(`expected one table in the aggregator construct, got ${ids.length}`);
  const p = tables[ids[0]].Properties as Record<string, any>;
  const def: Omit<CreateTableCommandInput, 'TableName'> = {
    KeySchema: p.KeySchema,
    AttributeDefinitions: p.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes ?? []).map((g: Record<string, unknown>) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection,
    })),
  };
  cached.set(byHourProjection ?? '', def);
  return def;
}

export async function createFeaturesTable(ddb: DynamoDBClient, tableName: string, byHourProjection?: FeaturesIndexProjection): Promise<void> {
  await ddb.send(new CreateTableCommand({ TableName: tableName, ...featuresTableDefinition(byHourProjection) }));
}
