/**
 * `DistillGuardStack`: the deployable app (stack id `DistillGuard` in bin/app.ts) = `DistillGuard` + the
 * optional `DemoApi` (on by default; `demoApi: false` in the `distill-guard` context to attach your own API).
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { pickConfig } from './config';
import { DistillGuard, DistillGuardProps, pickResourceProps, stageProps } from './distill-guard';
import { DemoApi, type DemoApiProps } from './ingest/demo-api';
import { DEMO_API_SETTINGS } from './ingest/settings';
import { acknowledgeNagFindings } from './nag-acknowledgements';

export interface DistillGuardStackProps extends StackProps, DistillGuardProps {}

export class DistillGuardStack extends Stack {
  public readonly guard: DistillGuard;
  public readonly demoApi?: DemoApi;
  /** The demo model stub's usage-event stream (usage events only; `demoUsageEvents`). */
  public readonly demoUsageStream?: kinesis.Stream;

  constructor(scope: Construct, id: string, props: DistillGuardStackProps = {}) {
    super(scope, id, {
      description: 'distill-guard: access logs -> features -> cases -> review/suspension -> ban events',
      ...props,
    });
    this.guard = new DistillGuard(this, 'Guard', { ...pickConfig(props), ...pickResourceProps(props) });
    const cfg = this.guard.config;

    if (cfg.demoApi) {
      // The stub answers the public internet: it gets a stream of its own, read as usage events only
      // (Aggregator.addUsageStream), never write access to the access-log stream, where a forged CloudWatch Logs
      // envelope would pass for the gateway's access logs.
      if (cfg.demoUsageEvents) {
        this.demoUsageStream = new kinesis.Stream(this, 'DemoUsageStream', {
          encryption: kinesis.StreamEncryption.KMS,
          encryptionKey: this.guard.ingestion.encryptionKey,
          streamMode: kinesis.StreamMode.PROVISIONED,
          shardCount: 1,
          retentionPeriod: Duration.hours(24),
          removalPolicy: RemovalPolicy.DESTROY,
        });
        this.guard.aggregator.addUsageStream(this.demoUsageStream);
      }
      this.demoApi = new DemoApi(this, 'DemoApi', {
        ...stageProps<DemoApiProps>(DEMO_API_SETTINGS, cfg),
        controlTable: this.guard.controlTable.table,
        accessLogGroup: this.guard.ingestion.accessLogGroup,
        accessLogDestinationArn: this.guard.firehose?.deliveryStreamArn,
        usageStream: this.demoUsageStream,
        // one AWS::ApiGateway::Account per app: the existing-stage attachment creates it when configured
        configureAccountCloudWatchRole: cfg.configureApiGatewayAccountRole && this.guard.existingStageIngestion === undefined,
      });
    }

    if (this.demoApi) {
      // The restrict step moves an account's keys between the demo API's two usage plans.
      if (!cfg.standardUsagePlanId)
        this.guard.escalation.restrictWithUsagePlans(this.demoApi.usagePlan.usagePlanId, this.demoApi.restrictedUsagePlan.usagePlanId);
      const monitoring = this.guard.monitoring;
      monitoring.monitorFunction({ fn: this.demoApi.authorizerFn, name: 'DemoAuthorizer' });
      monitoring.monitorFunction({ fn: this.demoApi.modelFn, name: 'DemoModelStub' });
      monitoring.monitorApi(this.demoApi.api, this.demoApi.stage.stageName, 'DemoApi');
    }

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    if (this.demoUsageStream)
      output(
        'DemoUsageStreamName',
        this.demoUsageStream.streamName,
        "Kinesis stream of the demo model stub's usage events (read as usage events only)",
      );
    output('IngestionStreamName', this.guard.ingestion.stream.streamName, 'Kinesis stream (access logs + usage events)');
    output('AccessLogGroupName', this.guard.ingestion.accessLogGroup.logGroupName, 'access-log group (subscribed to the stream)');
    if (this.guard.firehose) {
      output('AccessLogDeliveryStreamName', this.guard.firehose.deliveryStreamName, 'Firehose stream the stages log to (ingestPath firehose)');
      output('AccessLogBucketName', this.guard.firehose.bucket.bucketName, "bucket of the gzip'd access-log objects (ingestPath firehose)");
    }
    output('AlarmTopicArn', this.guard.monitoring.alarmTopic.topicArn, 'SNS topic every alarm notifies');
    // Ban events (docs/events.md: what a consuming team needs from the producer).
    output('BanEventBusName', this.guard.banEvents.eventBus.eventBusName, 'ban-event bus (distill-guard events tail --bus)');
    output('BanEventBusArn', this.guard.banEvents.eventBus.eventBusArn, 'ban-event bus ARN: consumers create their rules on it');
    output('BanEventArchiveName', this.guard.banEvents.archive.archiveName, 'archive of every ban event (replay)');
    output('BanEventSchemaRegistryName', this.guard.banEvents.registry.attrRegistryName, 'EventBridge schema registry of the ban events');

    acknowledgeNagFindings(this);
  }
}
