/**
 * The included demo API: what an LLM API provider's gateway looks like to distill-guard.
 *
 * - REST API (regional) with a Lambda REQUEST authorizer (lambdas/ingest/authorizer.ts) that resolves the
 *   account from `Authorization: Bearer <accountId>`, honours the account status in the control table, and
 *   returns principalId + context.accountCreatedAt for the access log;
 * - a stub model endpoint POST /v1/models/{model}/messages (lambdas/ingest/model-stub.ts), request-validated,
 *   that also plays the serving tier and emits usage events (docs/contract.md, usage event) onto the ingestion stream;
 * - API keys + a usage plan (so `apiKeyId` is in the access log, and suspension can disable keys), and a
 *   restricted usage plan with a low rate and burst that the `restrict` step moves an account's keys to;
 * - stage access logging in the access-log record format of docs/contract.md to the ingestion log group, execution
 *   logging (ERROR), detailed metrics and X-Ray tracing.
 */
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PK_PREFIX } from '../../src/shared/tables';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { accessLogFormat } from './access-log-format';
import { INGEST_DEFAULTS } from './defaults';
import { DEMO_API_SETTINGS } from './settings';
import { logGroupArnWithoutWildcard } from './ingestion-stream';

export interface DemoApiProps {
  /** The control table (`ACCOUNT#<id>` / `STATUS` items); the authorizer may only GetItem `ACCOUNT#*` keys. */
  readonly controlTable: dynamodb.ITable;
  /** The access-log group (`IngestionStream.accessLogGroup`). Unused when `accessLogDestinationArn` is set. */
  readonly accessLogGroup: logs.ILogGroup;
  /**
   * Write the stage's access logs here instead of `accessLogGroup`: the Firehose path's delivery stream
   * (`FirehoseAccessLogs.deliveryStreamArn`).
   * @default - the access-log group
   */
  readonly accessLogDestinationArn?: string;
  /**
   * Stream the model stub puts usage events on. Give it a stream of its own that the aggregator reads as usage
   * events only (`Aggregator.addUsageStream`), not the access-log stream: the stub answers the public, and a
   * writer of the access-log stream could forge CloudWatch Logs envelopes. Usage events are only emitted when this
   * is set and `emitUsageEvents` is true.
   * @default - no usage events
   */
  readonly usageStream?: kinesis.IStream;
  /**
   * The model stub emits a usage event (docs/contract.md) per successful request.
   * @default true
   */
  readonly emitUsageEvents?: boolean;
  /**
   * Stage name.
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * How long API Gateway caches the authorizer's answer per `Authorization` header. Longer saves Lambda
   * invocations and DynamoDB reads; a suspension then takes up to this long to bite.
   * @default Duration.seconds(0) (no cache)
   */
  readonly authorizerCacheTtl?: Duration;
  /**
   * Usage-plan steady-state rate per API key (requests/s).
   * @default 100
   */
  readonly throttleRateLimit?: number;
  /**
   * Usage-plan burst per API key.
   * @default 200
   */
  readonly throttleBurstLimit?: number;
  /**
   * Restricted usage plan (the `restrict` step moves an account's own keys onto it): requests/s per API key.
   * @default 1
   */
  readonly restrictedRateLimit?: number;
  /**
   * Restricted usage plan: burst per API key.
   * @default 2
   */
  readonly restrictedBurstLimit?: number;
  /**
   * Methods require an API key (`x-api-key`).
   * @default true
   */
  readonly apiKeyRequired?: boolean;
  /**
   * Allow accounts that have no STATUS item in the control table (treated as active).
   * @default true
   */
  readonly allowUnknownAccounts?: boolean;
  /**
   * Create the account-level API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`), which access and
   * execution logging need once per account and region. Set false when the account already has one.
   * @default true
   */
  readonly configureAccountCloudWatchRole?: boolean;
}

/** Model ids in the path: what `/v1/models/{model}/messages` accepts (the stub re-checks it). */
const MESSAGES_BODY_SCHEMA: apigateway.JsonSchema = {
  schema: apigateway.JsonSchemaVersion.DRAFT4,
  title: 'MessagesRequest',
  type: apigateway.JsonSchemaType.OBJECT,
  required: ['messages'],
  properties: {
    messages: { type: apigateway.JsonSchemaType.ARRAY, minItems: 1, maxItems: 1000 },
    max_tokens: { type: apigateway.JsonSchemaType.INTEGER, minimum: 1 },
    system: {},
    tools: { type: apigateway.JsonSchemaType.ARRAY },
  },
};

/** Writes access logs to a log group by its ARN without `:*` (what API Gateway documents), whatever the feature flags. */
class LogGroupArnDestination implements apigateway.IAccessLogDestination {
  constructor(private readonly logGroup: logs.ILogGroup) {}
  bind(): apigateway.AccessLogDestinationConfig {
    return { destinationArn: logGroupArnWithoutWildcard(this.logGroup) };
  }
}

/** Writes access logs to a destination given by ARN (a Firehose delivery stream named `amazon-apigateway-...`). */
class ArnDestination implements apigateway.IAccessLogDestination {
  constructor(private readonly arn: string) {}
  bind(): apigateway.AccessLogDestinationConfig {
    return { destinationArn: this.arn };
  }
}

export class DemoApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly stage: apigateway.Stage;
  public readonly authorizerFn: DistillGuardFunction;
  public readonly modelFn: DistillGuardFunction;
  public readonly usagePlan: apigateway.UsagePlan;
  /** The throttled plan the `restrict` step moves an account's keys to (`Escalation.restrictWithUsagePlans`). */
  public readonly restrictedUsagePlan: apigateway.UsagePlan;
  /** A demo API key on the usage plan (its value: `aws apigateway get-api-key --include-value --api-key <id>`). */
  public readonly demoApiKey: apigateway.IApiKey;

  constructor(scope: Construct, id: string, props: DemoApiProps) {
    super(scope, id);
    const stageName = props.stageName ?? INGEST_DEFAULTS.stageName;
    if (!/^[A-Za-z0-9_]{1,128}$/.test(stageName)) throw new Error(`stageName must match [A-Za-z0-9_]{1,128}, got ${JSON.stringify(stageName)}`);
    const rate = props.throttleRateLimit ?? INGEST_DEFAULTS.throttleRateLimit;
    const burst = props.throttleBurstLimit ?? INGEST_DEFAULTS.throttleBurstLimit;
    if (!(rate > 0)) throw new Error(`throttleRateLimit must be > 0, got ${rate}`);
    if (!(Number.isInteger(burst) && burst > 0)) throw new Error(`throttleBurstLimit must be a positive integer, got ${burst}`);
    const restrictedRate = props.restrictedRateLimit ?? INGEST_DEFAULTS.restrictedRateLimit;
    const restrictedBurst = props.restrictedBurstLimit ?? INGEST_DEFAULTS.restrictedBurstLimit;
    if (!(restrictedRate > 0 && restrictedRate <= rate))
      throw new Error(`restrictedRateLimit must be > 0 and at most throttleRateLimit (${rate}), got ${restrictedRate}`);
    if (!(Number.isInteger(restrictedBurst) && restrictedBurst > 0 && restrictedBurst <= burst))
      throw new Error(`restrictedBurstLimit must be a positive integer at most throttleBurstLimit (${burst}), got ${restrictedBurst}`);
    const cacheTtl = props.authorizerCacheTtl ?? INGEST_DEFAULTS.authorizerCacheTtl;
    const maxTtl = DEMO_API_SETTINGS.demoAuthorizerCacheTtlSeconds.max;
    if (cacheTtl.toSeconds() > maxTtl) throw new Error(`authorizerCacheTtl must be at most ${maxTtl} seconds, got ${cacheTtl.toSeconds()}`);

    this.authorizerFn = new DistillGuardFunction(this, 'AuthorizerFn', {
      entry: 'lambdas/ingest/authorizer.ts',
      serviceName: 'distill-guard-demo-authorizer',
      description: 'distill-guard demo API: resolve the account and honour its suspension status',
      timeout: Duration.seconds(5),
      environment: {
        CONTROL_TABLE: props.controlTable.tableName,
        ALLOW_UNKNOWN_ACCOUNTS: String(props.allowUnknownAccounts ?? INGEST_DEFAULTS.allowUnknownAccounts),
      },
    });
    // Least privilege: one action, on the STATUS items' partition keys only.
    this.authorizerFn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [props.controlTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${PK_PREFIX.account}*`] } },
      }),
    );
    props.controlTable.encryptionKey?.grantDecrypt(this.authorizerFn);

    const emitUsage = (props.emitUsageEvents ?? INGEST_DEFAULTS.emitUsageEvents) && props.usageStream !== undefined;
    this.modelFn = new DistillGuardFunction(this, 'ModelStubFn', {
      entry: 'lambdas/ingest/model-stub.ts',
      serviceName: 'distill-guard-demo-model',
      description: 'distill-guard demo API: stub model endpoint that emits usage events',
      timeout: Duration.seconds(10),
      environment: emitUsage ? { USAGE_STREAM_NAME: props.usageStream!.streamName } : {},
    });
    if (emitUsage) {
      this.modelFn.addToRolePolicy(
        // PutRecord only: the one call the stub makes.
        new iam.PolicyStatement({ actions: ['kinesis:PutRecord'], resources: [props.usageStream!.streamArn] }),
      );
      props.usageStream!.encryptionKey?.grant(this.modelFn, 'kms:GenerateDataKey');
    }

    const authorizer = new apigateway.RequestAuthorizer(this, 'Authorizer', {
      handler: this.authorizerFn,
      identitySources: [apigateway.IdentitySource.header('Authorization')],
      resultsCacheTtl: cacheTtl,
    });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-demo`,
      description: 'distill-guard demo LLM API (authorizer + stub model endpoint)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: props.configureAccountCloudWatchRole ?? true,
      apiKeySourceType: apigateway.ApiKeySourceType.HEADER,
      deployOptions: {
        stageName,
        accessLogDestination: props.accessLogDestinationArn
          ? new ArnDestination(props.accessLogDestinationArn)
          : new LogGroupArnDestination(props.accessLogGroup),
        accessLogFormat: accessLogFormat(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
      },
      defaultMethodOptions: {
        authorizer,
        authorizationType: apigateway.AuthorizationType.CUSTOM,
        apiKeyRequired: props.apiKeyRequired ?? INGEST_DEFAULTS.apiKeyRequired,
      },
    });
    this.stage = this.api.deploymentStage;

    this.api.addGatewayResponse('AccessDenied', {
      type: apigateway.ResponseType.ACCESS_DENIED,
      statusCode: '403',
      templates: {
        'application/json': '{"type":"error","error":{"type":"permission_error","message":"account suspended or not allowed"}}',
      },
    });
    this.api.addGatewayResponse('Unauthorized', {
      type: apigateway.ResponseType.UNAUTHORIZED,
      statusCode: '401',
      templates: {
        'application/json': '{"type":"error","error":{"type":"authentication_error","message":"expected Authorization: Bearer <accountId>"}}',
      },
    });

    const validator = new apigateway.RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const bodyModel = this.api.addModel('MessagesRequest', {
      contentType: 'application/json',
      modelName: 'MessagesRequest',
      schema: MESSAGES_BODY_SCHEMA,
    });
    const messages = this.api.root.addResource('v1').addResource('models').addResource('{model}').addResource('messages');
    messages.addMethod('POST', new apigateway.LambdaIntegration(this.modelFn), {
      requestValidator: validator,
      requestModels: { 'application/json': bodyModel },
      requestParameters: { 'method.request.path.model': true },
    });

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      description: 'distill-guard demo usage plan',
      throttle: { rateLimit: rate, burstLimit: burst },
      apiStages: [{ api: this.api, stage: this.stage }],
    });
    this.restrictedUsagePlan = this.api.addUsagePlan('RestrictedUsagePlan', {
      description: 'distill-guard restricted usage plan: keys of restricted accounts (the restrict step), until lifted',
      throttle: { rateLimit: restrictedRate, burstLimit: restrictedBurst },
      apiStages: [{ api: this.api, stage: this.stage }],
    });
    this.demoApiKey = this.api.addApiKey('DemoKey', { description: 'distill-guard demo API key' });
    this.usagePlan.addApiKey(this.demoApiKey);

    new CfnOutput(this, 'MessagesUrl', {
      description: 'POST here with Authorization: Bearer <accountId> and x-api-key',
      value: this.stage.urlForPath('/v1/models/{model}/messages'),
    });
    new CfnOutput(this, 'DemoApiKeyId', { description: 'distill-guard demo API key id', value: this.demoApiKey.keyId });
  }
}
