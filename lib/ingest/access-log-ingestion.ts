/**
 * Point an existing REST API stage's access logging at distill-guard: the access-log record format of
 * docs/contract.md, written to the ingestion log group (whose subscription filter feeds the Kinesis stream), or, on the Firehose path, to the
 * `amazon-apigateway-...` delivery stream (`deliveryStreamArn`; API Gateway then uses its service-linked role).
 *
 * - A `Stage` defined in the same CDK app: its `AWS::ApiGateway::Stage` gets `AccessLogSetting` directly.
 * - A stage outside the app (only `restApiId` + `stageName` known, or an imported `IStage`): a custom resource
 *   calls `apigateway:UpdateStage` with patch operations on `/accessLogSettings/*`, and removes the setting
 *   when this construct is deleted. Its role may PATCH that one stage and nothing else.
 *
 * Access logging of a REST API needs the account-level API Gateway CloudWatch role (`AWS::ApiGateway::Account`);
 * set `configureAccountCloudWatchRole` when the account has none yet.
 */
import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { accessLogFormatString } from './access-log-format';
import { logGroupArnWithoutWildcard } from './ingestion-stream';

export interface AccessLogIngestionProps {
  /**
   * The log group access logs are written to (`IngestionStream.accessLogGroup`). Give either this or
   * `deliveryStreamArn`.
   * @default - use `deliveryStreamArn`
   */
  readonly logGroup?: logs.ILogGroup;
  /**
   * The Firehose delivery stream access logs are written to (`FirehoseAccessLogs.deliveryStreamArn`; its name
   * starts with `amazon-apigateway-`). Give either this or `logGroup`.
   * @default - use `logGroup`
   */
  readonly deliveryStreamArn?: string;
  /**
   * The stage to log. A `Stage` from this app is configured in the template; an imported `IStage`
   * (`Stage.fromStageAttributes`) through the UpdateStage custom resource. Give either `stage`, or
   * `restApiId` + `stageName`.
   * @default - use `restApiId` + `stageName`
   */
  readonly stage?: apigateway.IStage;
  /**
   * Id of a REST API outside this app, e.g. `a1b2c3d4e5`. Requires `stageName`.
   * @default - use `stage`
   */
  readonly restApiId?: string;
  /**
   * Stage name of that REST API, e.g. `prod`. Requires `restApiId`.
   * @default - use `stage`
   */
  readonly stageName?: string;
  /**
   * Create the account-level API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`). API Gateway
   * needs it once per account and region to write access logs; leave false when the account already has one.
   * @default false
   */
  readonly configureAccountCloudWatchRole?: boolean;
}

export class AccessLogIngestion extends Construct {
  /** `template` when the stage's CloudFormation resource was configured, `update-stage` for the custom resource. */
  public readonly mode: 'template' | 'update-stage';
  /** The UpdateStage custom resource, in `update-stage` mode. */
  public readonly updateStage?: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: AccessLogIngestionProps) {
    super(scope, id);
    const byIds = props.restApiId !== undefined || props.stageName !== undefined;
    if (props.stage && byIds) {
      throw new Error(`give either stage or restApiId + stageName, not both (got stage ${props.stage.stageName} and restApiId ${props.restApiId})`);
    }
    if (!props.stage && (!props.restApiId || !props.stageName)) {
      throw new Error(
        `restApiId and stageName are both required without stage, got restApiId ${JSON.stringify(props.restApiId)} and stageName ${JSON.stringify(props.stageName)}`,
      );
    }
    if ((props.logGroup === undefined) === (props.deliveryStreamArn === undefined)) {
      throw new Error(
        `give exactly one of logGroup and deliveryStreamArn, got logGroup ${props.logGroup ? 'set' : 'unset'} and deliveryStreamArn ${JSON.stringify(props.deliveryStreamArn)}`,
      );
    }
    const destinationArn = props.logGroup ? logGroupArnWithoutWildcard(props.logGroup) : props.deliveryStreamArn!;
    const format = accessLogFormatString();

    if (props.configureAccountCloudWatchRole) {
      const role = new iam.Role(this, 'ApiGatewayCloudWatchRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
      });
      new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    }

    const cfnStage = props.stage?.node.defaultChild;
    if (props.stage && cfnStage instanceof apigateway.CfnStage) {
      this.mode = 'template';
      cfnStage.accessLogSetting = { destinationArn, format };
      return;
    }

    this.mode = 'update-stage';
    const restApiId = props.stage ? props.stage.restApi.restApiId : props.restApiId!;
    const stageName = props.stage ? props.stage.stageName : props.stageName!;
    const stack = Stack.of(this);
    // API Gateway resource ARNs have no account: arn:<partition>:apigateway:<region>::/restapis/<id>/stages/<name>
    const stageArn = `arn:${stack.partition}:apigateway:${stack.region}::/restapis/${restApiId}/stages/${stageName}`;
    const patch: cr.AwsSdkCall = {
      service: 'APIGateway',
      action: 'UpdateStage',
      parameters: {
        restApiId,
        stageName,
        patchOperations: [
          { op: 'replace', path: '/accessLogSettings/destinationArn', value: destinationArn },
          { op: 'replace', path: '/accessLogSettings/format', value: format },
        ],
      },
      physicalResourceId: cr.PhysicalResourceId.of(`distill-guard-access-log:${restApiId}:${stageName}`),
      outputPaths: ['accessLogSettings.destinationArn'],
    };
    this.updateStage = new cr.AwsCustomResource(this, 'UpdateStage', {
      resourceType: 'Custom::DistillGuardStageAccessLog',
      onCreate: patch,
      onUpdate: patch,
      onDelete: {
        service: 'APIGateway',
        action: 'UpdateStage',
        parameters: { restApiId, stageName, patchOperations: [{ op: 'remove', path: '/accessLogSettings' }] },
        // The stage (or the API) may already be gone; nothing left to undo then.
        ignoreErrorCodesMatching: 'NotFoundException',
      },
      installLatestAwsSdk: false,
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['apigateway:PATCH'], resources: [stageArn] })]),
    });
  }
}
