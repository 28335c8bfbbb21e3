/**
 * A small CDK stack that uses every resource type the local runtime emulates, synthesized by the tests into a
 * cdk.out under the repository (so bundles resolve @aws-sdk/* from the repository's node_modules, as the Lambda
 * runtime provides it). Handlers are plain JS asset directories (test/local/runtime/fixtures/*).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';

export const FIXTURES = path.join(__dirname, 'fixtures');

export function synthFixtureStack(outdir: string, stackName = 'RuntimeFixture'): string {
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);

  const table = new dynamodb.Table(stack, 'Items', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'expiresAt',
    stream: dynamodb.StreamViewType.NEW_IMAGE,
  });
  table.addGlobalSecondaryIndex({
    indexName: 'byKind',
    partitionKey: { name: 'kind', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const stream = new kinesis.Stream(stack, 'IngestStream', { shardCount: 2 });
  const failures = new sqs.Queue(stack, 'IngestFailures');
  const bus = new events.EventBus(stack, 'Bus');
  const subscriber = new sqs.Queue(stack, 'Subscriber');

  const fn = (id: string, env: Record<string, string>) =>
    new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(FIXTURES, id.toLowerCase())),
      timeout: Duration.seconds(10),
      environment: env,
    });

  const ingest = fn('Ingest', { TABLE_NAME: table.tableName });
  table.grantReadWriteData(ingest);
  ingest.addEventSource(
    new KinesisEventSource(stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: 1,
      maxRecordAge: Duration.hours(1),
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(failures),
    }),
  );

  const fanout = fn('Fanout', { EVENT_BUS_NAME: bus.eventBusName });
  bus.grantPutEventsTo(fanout);
  fanout.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 25,
      retryAttempts: 2,
      reportBatchItemFailures: true,
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { Keys: { pk: { S: lambda.FilterRule.beginsWith('rec#') } } },
        }),
      ],
    }),
  );

  new events.Rule(stack, 'SubscriberRule', {
    eventBus: bus,
    eventPattern: { source: ['fixture.fanout'], detailType: ['Item Inserted'] },
    targets: [new targets.SqsQueue(subscriber)],
  });

  const tick = fn('Tick', { TABLE_NAME: table.tableName });
  table.grantWriteData(tick);
  new events.Rule(stack, 'Every5Minutes', { schedule: events.Schedule.rate(Duration.minutes(5)), targets: [new targets.LambdaFunction(tick)] });

  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(
      new tasks.LambdaInvoke(stack, 'CallTick', { lambdaFunction: tick, payloadResponseOnly: true }).next(new sfn.Succeed(stack, 'Done')),
    ),
  });
  ingest.addEnvironment('STATE_MACHINE_ARN', machine.stateMachineArn);
  ingest.addEnvironment('SUBSCRIBER_URL', subscriber.queueUrl);

  app.synth();
  return path.join(outdir);
}
