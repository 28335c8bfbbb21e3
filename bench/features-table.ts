/**
 * Create the features table (and the control table) in a local DynamoDB exactly as the constructs define them:
 * the construct is synthesized (bundling skipped) and the table's key schema, attribute definitions and indexes
 * are read from the template, so tests and the benchmark never hand-write a second copy of a table.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Template } from 'aws-cdk-lib/assertions';
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Aggregator } from '../lib/aggregate/aggregator';
import { ControlTable } from '../lib/state/control-table';
import type { FeaturesIndexProjection } from '../lib/aggregate/defaults';

/** A synthesized table's properties as the CreateTable input (on demand; each index with its keys and projection). */
function tableDefinition(p: Record<string, any>): Omit<CreateTableCommandInput, 'TableName'> {
  return {
    KeySchema: p.KeySchema,
    AttributeDefinitions: p.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes ?? []).map((g: Record<string, unknown>) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection,
    })),
  };
}

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
  const def = tableDefinition(tables[ids[0]].Properties as Record<string, any>);
  cached.set(byHourProjection ?? '', def);
  return def;
}

export async function createFeaturesTable(ddb: DynamoDBClient, tableName: string, byHourProjection?: FeaturesIndexProjection): Promise<void> {
  await ddb.send(new CreateTableCommand({ TableName: tableName, ...featuresTableDefinition(byHourProjection) }));
}

/** The table of the ControlTable construct. */
export async function createControlTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ControlDefinition');
  new ControlTable(stack, 'Control');
  const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
  await ddb.send(new CreateTableCommand({ TableName: tableName, ...tableDefinition(Object.values(tables)[0].Properties as Record<string, any>) }));
}
