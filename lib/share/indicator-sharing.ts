/**
 * `IndicatorSharing` (optional, off unless `DistillGuard.addIndicatorSharing` is called): a schedule exports the
 * confirmed clusters' indicators (STIX 2.1, docs/indicators.md) into a sharing bucket, one prefix per partner
 * (`partners/<name>/`, read by that partner's principals only), and puts an `Indicators Exported` event on the
 * bus. Partners write their own bundles to `inbound/<name>/` (written by that partner's principals only).
 *
 * The bucket: customer-managed KMS key (partners' principals may decrypt/encrypt through S3 only), versioned,
 * TLS only, public access blocked, bucket-owner-enforced ownership, access logs to a log bucket, extra bucket
 * policy statements from props. Each partner's sharing key is a Secrets Manager secret the exporter may read.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { INDICATORS_EXPORTED } from '../../src/share/event';
import { EVENT_SOURCE } from '../../src/shared/contract';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { SHARE_SETTINGS as S } from './settings';

export interface SharingPartner {
  /** Lowercase letters, digits and '-': the prefix name. */
  readonly name: string;
  /** Id of the sharing key agreed with this partner (named in the bundle). */
  readonly keyId: string;
  /** The sharing key itself. */
  readonly keySecret: secretsmanager.ISecret;
  /** Principals of the partner that read `partners/<name>/` and write `inbound/<name>/` (e.g. an account's root or a role). */
  readonly principals: iam.IPrincipal[];
}

export interface IndicatorSharingProps {
  readonly featuresTable: dynamodb.ITable;
  readonly controlTable: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  readonly partners: SharingPartner[];
  /** Your organisation's name in the bundles. */
  readonly producer: string;
  /** Time between exports (at least an hour). @default Duration.hours(24) */
  readonly schedule?: Duration;
  /** Features read for the members' profiles. @default Duration.hours(72) */
  readonly lookback?: Duration;
  /** @default 30 */
  readonly validDays?: number;
  /** @default 'amber' */
  readonly tlp?: 'white' | 'green' | 'amber' | 'red';
  /** Extra statements for the bucket policy (e.g. an organisation condition). */
  readonly bucketPolicyStatements?: iam.PolicyStatement[];
  /** @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** The scorer: given, it reads the partners' bundles from `inbound/<name>/` (the external-indicator signal). */
  readonly scorer?: DistillGuardFunction;
  /**
   * Other functions that decide accounts and so read the partners' bundles as the scorer does (a distributed
   * detection run's decide children).
   * @default - none
   */
  readonly scoringFunctions?: DistillGuardFunction[];
}

export class IndicatorSharing extends Construct {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.Key;
  readonly exporter: DistillGuardFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: IndicatorSharingProps) {
    validatePartners(props.partners);
    super(scope, id);
    const schedule = props.schedule ?? Duration.hours(S.scheduleHours.default);
    if (schedule.toMinutes() < S.scheduleHours.min * 60) {
      throw new Error(`indicator export schedule must be at least ${S.scheduleHours.min} hour, got ${schedule.toHumanString()}`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.encryptionKey = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'distill-guard indicator sharing bucket', removalPolicy });
    const logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      enforceSSL: true,
      removalPolicy,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'sharing/',
      removalPolicy,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    for (const p of props.partners) {
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Read${pascal(p.name)}`,
          principals: p.principals,
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: [this.bucket.arnForObjects(`partners/${p.name}/*`)],
        }),
      );
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `List${pascal(p.name)}`,
          principals: p.principals,
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`partners/${p.name}/*`, `inbound/${p.name}/*`] } },
        }),
      );
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Write${pascal(p.name)}`,
          principals: p.principals,
          actions: ['s3:PutObject'],
          resources: [this.bucket.arnForObjects(`inbound/${p.name}/*`)],
        }),
      );
      this.encryptionKey.grantEncryptDecrypt(new iam.CompositePrincipal(...p.principals));
    }
    for (const s of props.bucketPolicyStatements ?? []) this.bucket.addToResourcePolicy(s);

    this.exporter = new DistillGuardFunction(this, 'Exporter', {
      entry: 'lambdas/share/exporter.ts',
      serviceName: 'distill-guard-indicator-export',
      description: 'distill-guard indicator export: confirmed clusters -> STIX 2.1 bundle per partner -> sharing bucket + event',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 1,
      environment: {
        CONTROL_TABLE: props.controlTable.tableName,
        FEATURES_TABLE: props.featuresTable.tableName,
        BUCKET: this.bucket.bucketName,
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        PRODUCER: props.producer,
        PARTNERS: JSON.stringify(props.partners.map((p) => ({ name: p.name, keyId: p.keyId, keySecretArn: p.keySecret.secretArn }))),
        LOOKBACK_HOURS: String(Math.round((props.lookback ?? Duration.hours(S.lookbackHours.default)).toHours())),
        VALID_DAYS: String(props.validDays ?? S.validDays.default),
        TLP: props.tlp ?? S.tlp.default,
      },
    });
    // Least privilege: read the escalation store and the features; write only the partners' prefixes; read only
    // the partners' sharing keys; put only its own detail type on the bus.
    props.controlTable.grantReadData(this.exporter);
    props.featuresTable.grantReadData(this.exporter);
    this.exporter.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WritePartnerPrefixes',
        actions: ['s3:PutObject'],
        resources: props.partners.map((p) => this.bucket.arnForObjects(`partners/${p.name}/*`)),
      }),
    );
    this.encryptionKey.grant(this.exporter, 'kms:GenerateDataKey', 'kms:Decrypt');
    for (const p of props.partners) p.keySecret.grantRead(this.exporter);
    this.exporter.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PutIndicatorsExported',
        actions: ['events:PutEvents'],
        resources: [props.eventBus.eventBusArn],
        conditions: { StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': INDICATORS_EXPORTED } },
      }),
    );
    // cdk-nag: one finding per partner prefix (object keys hold the export time, so a prefix wildcard is the scope).
    const stack = Stack.of(this);
    const bucketId = stack.resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
    const policy = this.exporter.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild!;
    for (const p of props.partners) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/partners/${p.name}/*]`,
        reason: `Indicator sharing: the exporter writes one new object per export under partners/${p.name}/ (the key holds the export time) of this one bucket, nothing else`,
      });
    }
    for (const fn of [...(props.scorer ? [props.scorer] : []), ...(props.scoringFunctions ?? [])]) this.grantInbound(fn, props.partners, bucketId);
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'distill-guard indicator export schedule',
      schedule: events.Schedule.rate(schedule),
      targets: [new targets.LambdaFunction(this.exporter, { retryAttempts: 1, maxEventAge: Duration.hours(1) })],
    });
  }

  /** The scorer reads `inbound/*` (list, get, decrypt) and the partners' keys; nothing else of the bucket. */
  grantInbound(fn: DistillGuardFunction, partners: SharingPartner[], bucketId: string): void {
    fn.addEnvironment('SHARING_BUCKET', this.bucket.bucketName);
    fn.addEnvironment(
      'SHARING_PARTNERS',
      JSON.stringify(partners.map((p) => ({ name: p.name, keyId: p.keyId, keySecretArn: p.keySecret.secretArn }))),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadPartnerBundles', actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('inbound/*')] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListPartnerBundles',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['inbound/*'] } },
      }),
    );
    this.encryptionKey.grantDecrypt(fn);
    for (const p of partners) p.keySecret.grantRead(fn);
    Validations.of(fn.role!.node.tryFindChild('DefaultPolicy')!.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/inbound/*]`,
      reason:
        'Indicator sharing: the scorer reads the bundles partners upload under inbound/<partner>/ (keys chosen by the partner) of this one bucket, nothing else',
    });
  }
}

function validatePartners(partners: SharingPartner[]): void {
  if (partners.length === 0) throw new Error('indicator sharing needs at least one partner, got none');
  const names = new Set<string>();
  for (const p of partners) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(p.name))
      throw new Error(`partner name must be lowercase letters, digits and '-', got ${JSON.stringify(p.name)}`);
    if (names.has(p.name)) throw new Error(`partner ${JSON.stringify(p.name)} is listed twice`);
    names.add(p.name);
  }
}

function pascal(s: string): string {
  return s.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
