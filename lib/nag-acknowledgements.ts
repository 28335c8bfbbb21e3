/**
 * Every cdk-nag AwsSolutions finding distill-guard acknowledges instead of fixing, each with its reason, in one
 * place (so it can be reviewed and listed: `npx tsx -e "require('./lib/nag-acknowledgements').printNagAcknowledgements()"`).
 *
 * Each entry names the rule (with the finding where the rule has several, e.g. `IAM5[Resource::*]`) and the
 * construct paths (regular expressions on the path below the stack) it applies to, so a new resource with the
 * same finding elsewhere is NOT silently acknowledged. test/lib/nag.test.ts fails on any unacknowledged
 * finding, and test/lib/iam.test.ts checks that every `"Resource": "*"` statement is one of
 * STAR_RESOURCE_ACTIONS below.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { CONTROL_BY_STATE_INDEX, FEATURES_BY_HOUR_INDEX } from '../src/shared/tables';

export interface NagAcknowledgement {
  /** Rule id, with the finding for multi-finding rules, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** Why this is acceptable here (shown in the validation report and the README). */
  readonly reason: string;
  /** Construct paths below the stack (regular expressions, anchored) the acknowledgement applies to. */
  readonly paths: RegExp[];
}

/** Lambda service roles and their default policies, for every function of the app. */
const FUNCTION_ROLES = /.*\/ServiceRole\/Resource/;
const FUNCTION_POLICIES = /.*\/ServiceRole\/DefaultPolicy\/Resource/;
const FUNCTIONS =
  /(Guard\/(Aggregator\/Function|ObjectAggregator\/Function|BanEvents\/(Publisher|Sweeper)|Escalation\/(CaseFn|SuspensionFn|ExpirerFn|ReinstateFn|RestrictFn|ClusterDecisionFn|ReviewApi\/TaskFn|ReviewApi\/ApiFn)|Scorer\/Function|Scorer\/ShardFunction|Scorer\/Linkage\/StageFn|IndicatorSharing\/Exporter)|DemoApi\/(AuthorizerFn|ModelStubFn)|AWS679f53fac002430cb0da5b7982bd2287)\/Resource/;

/**
 * Actions AWS only authorises on `"Resource": "*"`; the only ones allowed with a `*` resource in an identity
 * policy (key policies use `*` to mean "this key" and are not identity policies).
 */
export const STAR_RESOURCE_ACTIONS: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions (active tracing of every function)',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions (Step Functions tracing)',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions (Step Functions tracing)',
  'dynamodb:ListStreams': 'ListStreams has no resource-level permissions; Lambda needs it for a DynamoDB-stream event source',
  'logs:CreateLogDelivery': 'CloudWatch Logs vended-log delivery (Step Functions logging) supports only *',
  'logs:GetLogDelivery': 'CloudWatch Logs vended-log delivery supports only *',
  'logs:UpdateLogDelivery': 'CloudWatch Logs vended-log delivery supports only *',
  'logs:DeleteLogDelivery': 'CloudWatch Logs vended-log delivery supports only *',
  'logs:ListLogDeliveries': 'CloudWatch Logs vended-log delivery supports only *',
  'logs:PutResourcePolicy': 'CloudWatch Logs resource policies are account-level (Step Functions logging)',
  'logs:DescribeResourcePolicies': 'CloudWatch Logs resource policies are account-level',
  'logs:DescribeLogGroups': 'DescribeLogGroups has no resource-level permissions (Step Functions logging)',
  'cloudwatch:PutMetricData': 'PutMetricData has no resource-level permissions (scoped by the cloudwatch:namespace condition where used)',
};

export const NAG_ACKNOWLEDGEMENTS: NagAcknowledgement[] = [
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'AWSLambdaBasicExecutionRole only grants logs:CreateLogGroup/CreateLogStream/PutLogEvents; every distill-guard function writes to its own retention-bounded log group (except the UpdateStage custom-resource provider and, on the Firehose path, the S3 bucket-notifications handler, which aws-cdk-lib builds)',
    paths: [FUNCTION_ROLES, /BucketNotificationsHandler050a0587b7544547bf325f094a3db834\/Role\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      'The account-level API Gateway CloudWatch role must be able to create and write any API Gateway log group in the account (access + execution logs); this AWS managed policy is the documented way',
    paths: [/(DemoApi\/Api\/CloudWatchRole|Guard\/(ExistingStage|AttachedStage\d+)\/ApiGatewayCloudWatchRole)\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `Only actions AWS authorises on * alone (X-Ray tracing, dynamodb:ListStreams for stream event sources, CloudWatch Logs delivery for Step Functions); test/lib/iam.test.ts pins every such statement to this list: ${Object.keys(STAR_RESOURCE_ACTIONS).join(', ')}`,
    paths: [FUNCTION_POLICIES, /Guard\/(Escalation|Scorer\/Linkage)\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      'CDK grant actions on ONE customer-managed key (the resource is that key ARN, never *): GenerateDataKey* covers GenerateDataKey and GenerateDataKeyWithoutPlaintext used by DynamoDB/SQS/EventBridge envelope encryption',
    paths: [FUNCTION_POLICIES, /Guard\/Escalation\/(StateMachine\/Role\/DefaultPolicy|OperatorPolicy)\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    reason: 'CDK grant actions on ONE customer-managed key (the resource is that key ARN, never *); ReEncrypt* is needed when the key rotates',
    paths: [FUNCTION_POLICIES, /Guard\/Escalation\/OperatorPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardControlTable41DCF7E8.Arn>/index/*]',
    reason: `The control table's own GSIs (${CONTROL_BY_STATE_INDEX}: cases by state); scoped to this one table`,
    paths: [FUNCTION_POLICIES, /Guard\/Escalation\/(ReviewerPolicy|OperatorPolicy)\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardAggregatorFeaturesTable9DE993FC.Arn>/index/*]',
    reason: `The features table's own GSI (${FEATURES_BY_HOUR_INDEX}: accounts active in an hour); scoped to this one table`,
    paths: [FUNCTION_POLICIES, /Guard\/Escalation\/(ReviewerPolicy|OperatorPolicy)\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]',
    reason:
      "API keys have no ARN narrower than /apikeys/<id>, and the ids of a suspended account's keys are only known at run time (its STATUS item); actions are limited to apigateway:GET/PATCH",
    paths: [FUNCTION_POLICIES, /Guard\/Escalation\/OperatorPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/usageplans/<DemoApiUsagePlan4EC878AF>/keys/*]',
    reason:
      "The keys of one usage plan of the demo API: which of them belong to a restricted account is only known at run time; actions are limited to apigateway:GET/POST/DELETE on this plan's keys",
    paths: [/Guard\/Escalation\/(SuspensionFn|ExpirerFn|ReinstateFn|RestrictFn)\/ServiceRole\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/usageplans/<DemoApiRestrictedUsagePlanE9372BB5>/keys/*]',
    reason:
      "The keys of one usage plan of the demo API: which of them belong to a restricted account is only known at run time; actions are limited to apigateway:GET/POST/DELETE on this plan's keys",
    paths: [/Guard\/Escalation\/(SuspensionFn|ExpirerFn|ReinstateFn|RestrictFn)\/ServiceRole\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardEscalationCaseFn4E998CBC.Arn>:*]',
    reason: 'Versions and aliases of the one case-step function (Step Functions LambdaInvoke grant)',
    paths: [/Guard\/Escalation\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardEscalationSuspensionFnE697B0C4.Arn>:*]',
    reason: 'Versions and aliases of the one suspension-step function (Step Functions LambdaInvoke grant)',
    paths: [/Guard\/Escalation\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardEscalationReviewApiTaskFnEC5BFB89.Arn>:*]',
    reason: 'Versions and aliases of the one review-task function (Step Functions LambdaInvoke grant)',
    paths: [/Guard\/Escalation\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/DistillGuard/*]',
    reason: "Read-only DescribeStacks on this stack (any stack id suffix): the review CLI reads the stack's outputs",
    paths: [/Guard\/Escalation\/(ReviewerPolicy|OperatorPolicy)\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardAccessLogObjectsBucketA21D1AAB.Arn>/*]',
    reason:
      'Firehose path: the delivery role writes objects whose keys Firehose generates at run time (date prefix + random suffix) into this one bucket (s3:PutObject and the multipart calls Firehose documents); nothing outside the bucket',
    paths: [/Guard\/AccessLogObjects\/DeliveryPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardAccessLogObjectsBucketA21D1AAB.Arn>/access-logs/*]',
    reason:
      'Firehose path: the object aggregator may only s3:GetObject the access-log objects, whose keys are known only from the S3 event at run time; scoped to the access-logs/ prefix of this one bucket',
    paths: [FUNCTION_POLICIES],
  },
  {
    id: 'AwsSolutions-S1',
    reason:
      'Firehose path: the access-log bucket is written only by the delivery stream (its role) and read only by the object aggregator (its role), both in this stack; every access is an IAM-authorised API call (CloudTrail data events if needed), objects expire after accessLogObjectRetentionDays, and a log bucket for it would hold more copies of the same source IPs',
    paths: [/Guard\/AccessLogObjects\/Bucket\/Resource/],
  },
  {
    id: 'AwsSolutions-S1',
    reason:
      "Distributed detection runs: the records bucket holds working records of minutes-long runs, written and read only by the scorer, score-shard and linkage-stage functions (all this stack's, scoped to runs/* and state/*), runs expired after a day; a log bucket would keep more copies of the same account attributes",
    paths: [/Guard\/Scorer\/Linkage\/Records\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardScorerLinkageRecords65C5802E.Arn>/runs/*]',
    reason:
      'The objects of the distributed detection runs (runs/<execution name>/...: the run names are only known at run time), in the one records bucket',
    paths: [/Guard\/Scorer\/(Function|ShardFunction|Linkage\/StageFn)\/ServiceRole\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardScorerLinkageRecords65C5802E.Arn>/state/*]',
    reason: 'What outlives a distributed detection run (state/population.json: the population the next run plans from), in the one records bucket',
    paths: [/Guard\/Scorer\/(Function|ShardFunction|Linkage\/StageFn)\/ServiceRole\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardScorerShardFunction7702D09D.Arn>:*]',
    reason:
      'Versions and aliases of the one score-shard function (Step Functions LambdaInvoke grant: the Distributed Map children that read windows and decide)',
    paths: [/Guard\/Scorer\/Linkage\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardScorerFunction6F2C73B5.Arn>:*]',
    reason: "Versions and aliases of the one scorer function (Step Functions LambdaInvoke grant: the linkage run's last step)",
    paths: [/Guard\/Scorer\/Linkage\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::<GuardScorerLinkageStageFn96CBF827.Arn>:*]',
    reason: 'Versions and aliases of the one linkage-stage function (Step Functions LambdaInvoke grant: the Distributed Map children)',
    paths: [/Guard\/Scorer\/Linkage\/StateMachine\/Role\/DefaultPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"GuardScorerLinkageStateMachine682278A9"}]}]}:*]',
    reason:
      "aws-cdk-lib's Distributed Map grant: describe and stop the linkage state machine's own child executions (names chosen by Step Functions)",
    paths: [/Guard\/Scorer\/Linkage\/StateMachine\/DistributedMapPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"GuardScorerLinkageStateMachine682278A9"}]}]}/*:*]',
    reason: "aws-cdk-lib's Distributed Map grant: redrive the linkage state machine's own map runs",
    paths: [/Guard\/Scorer\/Linkage\/StateMachine\/DistributedMapPolicy\/Resource/],
  },
  {
    id: 'AwsSolutions-L1',
    reason:
      'distill-guard pins Node.js 22 (LTS; the version the local runtime and the tests run the same bundles on); the runtime is set in one place, lib/shared/distill-guard-function.ts. The AwsCustomResource provider runtime is chosen by aws-cdk-lib',
    paths: [FUNCTIONS],
  },
  {
    id: 'AwsSolutions-KDS3',
    reason:
      'Deliberately a customer-managed KMS key (rotation on, key policy scoped, usage in CloudTrail, shared with the access-log group) instead of the aws/kinesis AWS-managed key',
    paths: [/(Guard\/Ingestion\/Stream|DemoUsageStream)\/Resource/],
  },
  {
    id: 'AwsSolutions-SQS3',
    reason:
      'These queues ARE the dead-letter / on-failure destinations (Kinesis and DynamoDB-stream event source mappings), not work queues; a DLQ of a DLQ adds nothing, their depth alarms instead',
    paths: [/Guard\/(Aggregator\/FailureQueue|BanEvents\/PublisherFailures|Escalation\/ReviewDlq|Detect\/[^/]*(Failure|Dlq)[^/]*)\/Resource/],
  },
  {
    id: 'AwsSolutions-SMG4',
    reason:
      'The IP hash key must not rotate: every stored IP hash (features table, up to featuresRetentionDays) is keyed by it, and a new key would stop new traffic linking to old; it is generated per deployment, KMS-encrypted with the stack key and readable only by the aggregator roles (docs/security.md)',
    paths: [/Guard\/Aggregator\/IpHashKey\/Resource/],
  },
  {
    id: 'AwsSolutions-APIG3',
    reason:
      'The demo API is an example gateway; a provider fronts its real API with its own AWS WAF web ACL (distill-guard attaches to that stage), and the demo is throttled by its usage plan',
    paths: [/DemoApi\/Api\/DeploymentStage\.[^/]+\/Resource/],
  },
  {
    id: 'AwsSolutions-COG4',
    reason:
      'Callers are authorised by the Lambda REQUEST authorizer (which resolves the customer account and honours suspensions, the point of the demo) plus an API key; Cognito user pools do not model API customers',
    paths: [/DemoApi\/Api\/Default\/.*\/Resource/],
  },
];

/** Apply NAG_ACKNOWLEDGEMENTS to every construct of `stack` whose path (below the stack) matches. */
export function acknowledgeNagFindings(stack: Stack, under: IConstruct = stack): void {
  const prefix = `${stack.node.path}/`;
  for (const c of under.node.findAll()) {
    if (!c.node.path.startsWith(prefix)) continue;
    const rel = c.node.path.slice(prefix.length);
    for (const ack of NAG_ACKNOWLEDGEMENTS) {
      if (ack.paths.some((p) => new RegExp(`^(?:${p.source})$`).test(rel))) {
        Validations.of(c as IConstruct).acknowledge({ id: ack.id, reason: ack.reason });
      }
    }
  }
}

/** The acknowledgements as a markdown table (README / report). */
export function nagAcknowledgementsMarkdown(): string {
  const rows = NAG_ACKNOWLEDGEMENTS.map((a) => `| \`${a.id}\` | ${a.reason} |`);
  return ['| rule | reason |', '| --- | --- |', ...rows].join('\n');
}

export function printNagAcknowledgements(): void {
  console.log(nagAcknowledgementsMarkdown());
}
