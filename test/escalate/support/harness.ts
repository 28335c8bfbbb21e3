/**
 * Runs the SYNTHESIZED escalation state machine locally: DynamoDB Local (tables created from the template's
 * AWS::DynamoDB::Table resources), fauxqs (the review queue), the local API Gateway API-keys endpoint and the
 * local Step Functions endpoint (task tokens, SendTaskSuccess). The state machine's Lambda tasks run the real
 * handler modules in-process, each with the environment its function has in the template.
 */
import { CreateTableCommand, CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { EscalationProps } from '../../../lib/escalate/escalation';
import { RunningEmulator, startDynamoDbLocal } from '../../../local/emulators/dynamodb-local';
import { startSqs } from '../../../local/emulators/sqs';
import { startApiGateway, LocalApiGateway } from '../../../local/services/apigateway';
import { startStepFunctions, LocalStepFunctions } from '../../../local/services/stepfunctions';
import { startLambda, LocalLambda } from '../../../local/services/lambda';
import { startKms, LocalKms } from '../../../local/services/kms';
import { LocalFunctionUrl, startFunctionUrl } from '../../../local/services/function-url';
import { LOCAL_CREDENTIALS } from '../../../local/services/clients';
import { EscalationStore } from '../../../lambdas/escalate/store';
import { Operator } from '../../../ops/operator';
import { synthEscalation, Synthesized } from './synth';

const REGION = 'us-east-1';

export interface Deployment {
  name: string;
  syn: Synthesized;
  stateMachineArn: string;
  queueUrl: string;
  controlTable: string;
  featuresTable: string;
  /** Name of the reinstatement function (what the operator tools invoke). */
  reinstateFunction: string;
  /** Name of the cluster decision function (what `cluster decide` invokes). */
  clusterDecisionFunction: string;
  /** The review API's local function URL (SigV4-verified). */
  reviewApiUrl: string;
  /** Invoke a deployed function by role, as its trigger would (e.g. the review API with a hand-made URL event). */
  invoke(role: keyof Synthesized['functions'], event: unknown): Promise<unknown>;
  /** Start an execution the way the scorer does (name = caseId). */
  start(input: Record<string, unknown>, name?: string): string;
  operator(identity?: string): Operator;
  store(): EscalationStore;
}

export interface Harness {
  ddb: RunningEmulator;
  sqs: RunningEmulator;
  apigw: LocalApiGateway;
  sfn: LocalStepFunctions;
  /** Lambda Invoke on the deployed functions (the operator tools' reinstatement). */
  lambda: LocalLambda;
  kms: LocalKms;
  doc: DynamoDBDocumentClient;
  deploy(name: string, props?: Partial<EscalationProps>): Promise<Deployment>;
  stop(): Promise<void>;
}

const HANDLERS: Record<string, string> = {
  caseFn: '../../../lambdas/escalate/case-handler',
  suspensionFn: '../../../lambdas/escalate/suspension-handler',
  expirerFn: '../../../lambdas/escalate/expirer-handler',
  reinstateFn: '../../../lambdas/escalate/reinstate-handler',
  restrictFn: '../../../lambdas/escalate/restrict-handler',
  clusterDecisionFn: '../../../lambdas/escalate/cluster-handler',
  reviewTaskFn: '../../../lambdas/escalate/review-task-handler',
  reviewApiFn: '../../../lambdas/escalate/review-api-handler',
};

export async function startHarness(): Promise<Harness> {
  const [ddb, sqs, apigw, kms] = await Promise.all([
    startDynamoDbLocal(),
    startSqs({ mode: 'child-process' }),
    startApiGateway(),
    startKms({ region: REGION }),
  ]);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_API_GATEWAY: apigw.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    POWERTOOLS_METRICS_NAMESPACE: 'DistillGuard',
    POWERTOOLS_SERVICE_NAME: 'escalate',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_DEV: 'false',
    POWERTOOLS_TRACE_ENABLED: 'false',
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
  });
  const creds = { ...LOCAL_CREDENTIALS };
  const ddbClient = new DynamoDBClient({ region: REGION, endpoint: ddb.endpoint, credentials: creds });
  const doc = DynamoDBDocumentClient.from(ddbClient, { marshallOptions: { removeUndefinedValues: true } });
  const sqsClient = new SQSClient({ region: REGION, endpoint: sqs.endpoint, credentials: creds });

  /** function ARN -> handler, loaded in an isolated module registry with the function's template environment. */
  const functions = new Map<string, (payload: unknown) => Promise<unknown>>();
  const sfn = await startStepFunctions({
    region: REGION,
    endpoints: { sqs: sqs.endpoint, dynamodb: ddb.endpoint, api_gateway: apigw.endpoint },
    retryIntervalMs: 5,
    invokeLambda: async (fn, payload) => {
      const h = functions.get(fn);
      if (!h) throw new Error(`no local function ${fn}`);
      return h(payload);
    },
  });

  // The review API completes tasks with the SDK's Step Functions client, pointed here.
  process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;
  const urls: LocalFunctionUrl[] = [];

  const lambda = await startLambda({
    invoker: async (fn, payload) => {
      const arn = fn.startsWith('arn:') ? fn : `arn:aws:lambda:${REGION}:000000000000:function:${fn}`;
      const run = functions.get(arn);
      if (!run) throw new Error(`no local function for ${fn}`);
      try {
        return { ok: true, payload: await run(payload) };
      } catch (err) {
        return { ok: false, payload: { errorType: (err as Error).name, errorMessage: (err as Error).message } };
      }
    },
  });

  const tablesCreated = new Set<string>();

  async function deploy(name: string, props: Partial<EscalationProps> = {}): Promise<Deployment> {
    const syn = synthEscalation(props);
    const resources = syn.json.Resources as Record<string, any>;
    const physical = (logicalId: string) => `${name}-${logicalId}`;

    // Tables, exactly as the template declares them.
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::DynamoDB::Table') continue;
      const p = r.Properties;
      const input: CreateTableCommandInput = {
        TableName: physical(id),
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(p.GlobalSecondaryIndexes
          ? {
              GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((g: any) => ({
                IndexName: g.IndexName,
                KeySchema: g.KeySchema,
                Projection: g.Projection,
              })),
            }
          : {}),
      };
      if (!tablesCreated.has(input.TableName!)) {
        await ddbClient.send(new CreateTableCommand(input));
        tablesCreated.add(input.TableName!);
      }
    }
    const tableOf = (re: RegExp) => physical(Object.keys(resources).find((id) => resources[id].Type === 'AWS::DynamoDB::Table' && re.test(id))!);
    const controlTable = tableOf(/^Control/);
    const featuresTable = tableOf(/^Features/);

    // The review queue (and DLQ).
    const queueId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::SQS::Queue' && /ReviewQueue/.test(id))!;
    const q = await sqsClient.send(
      new CreateQueueCommand({
        QueueName: physical(queueId),
        Attributes: { VisibilityTimeout: String(resources[queueId].Properties.VisibilityTimeout ?? 30) },
      }),
    );
    const queueUrl = q.QueueUrl!;

    // Functions: the template's environment with Refs resolved to the local names.
    const resolve = (v: any): string => {
      if (typeof v === 'string') return v;
      if (v?.Ref) return resources[v.Ref]?.Type === 'AWS::SQS::Queue' ? queueUrl : physical(v.Ref);
      if (v?.['Fn::GetAtt']?.[1] === 'Arn' && resources[v['Fn::GetAtt'][0]]?.Type === 'AWS::KMS::Key')
        return `arn:aws:kms:${REGION}:000000000000:key/${physical(v['Fn::GetAtt'][0])}`;
      throw new Error(`cannot resolve ${JSON.stringify(v)} in a function environment`);
    };
    for (const [role, logicalId] of Object.entries(syn.functions)) {
      const vars = resources[logicalId].Properties.Environment?.Variables ?? {};
      const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v)]));
      let mod: { handler: (e: unknown) => Promise<unknown> } | undefined;
      const arn = `arn:aws:lambda:${REGION}:000000000000:function:${physical(logicalId)}`;
      functions.set(arn, async (payload) => {
        if (!mod) {
          const saved = { ...process.env };
          Object.assign(process.env, env);
          jest.isolateModules(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            mod = require(HANDLERS[role]);
          });
          // The handler read its configuration at load; keep the process env as it was for other deployments.
          for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
          Object.assign(process.env, saved);
        }
        // The Store reads table names lazily from the environment: give it this function's.
        const saved = { ...process.env };
        Object.assign(process.env, env);
        try {
          return await mod!.handler(JSON.parse(JSON.stringify(payload)));
        } finally {
          for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
          Object.assign(process.env, saved);
        }
      });
    }

    // The definition, with the template's tokens swapped for the local ARNs/URLs.
    let text = JSON.stringify(syn.definition);
    for (const logicalId of Object.values(syn.functions)) {
      text = text.split(`<${logicalId}.Arn>`).join(`arn:aws:lambda:${REGION}:000000000000:function:${physical(logicalId)}`);
    }
    text = text.split(`<${queueId}>`).join(queueUrl);
    if (/<[A-Za-z0-9:.]+>/.test(text)) throw new Error(`unresolved token in definition: ${text.match(/<[A-Za-z0-9:.]+>/)?.[0]}`);
    const stateMachineArn = sfn.createStateMachine(name, text);
    const fnOf = (role: keyof Synthesized['functions']) =>
      functions.get(`arn:aws:lambda:${REGION}:000000000000:function:${physical(syn.functions[role])}`)!;
    const url = await startFunctionUrl({ region: REGION, invoke: (event) => fnOf('reviewApiFn')(event) });
    urls.push(url);

    const dep: Deployment = {
      name,
      syn,
      stateMachineArn,
      queueUrl,
      controlTable,
      featuresTable,
      reinstateFunction: physical(syn.functions.reinstateFn),
      clusterDecisionFunction: physical(syn.functions.clusterDecisionFn),
      reviewApiUrl: url.url,
      invoke: (role, event) => fnOf(role)(event),
      start: (input, execName) => sfn.startExecution(stateMachineArn, input, execName ?? String(input.caseId)).executionArn,
      operator: (identity) =>
        new Operator(
          {
            region: REGION,
            controlTable,
            featuresTable,
            stateMachineArn,
            reviewQueueUrl: queueUrl,
            reinstateFunction: physical(syn.functions.reinstateFn),
            restrictFunction: physical(syn.functions.restrictFn),
            clusterDecisionFunction: physical(syn.functions.clusterDecisionFn),
            reviewApiUrl: url.url,
            endpoints: { dynamodb: ddb.endpoint, sqs: sqs.endpoint, sfn: sfn.endpoint, api_gateway: apigw.endpoint, lambda: lambda.endpoint },
            local: true,
          },
          identity ?? 'local:reviewer-alice',
        ),
      store: () =>
        new EscalationStore({
          tableName: controlTable,
          featuresTableName: featuresTable,
          ddb: doc,
          apigw: new APIGatewayClient({ region: REGION, endpoint: apigw.endpoint, credentials: creds }),
        }),
    };
    return dep;
  }

  return {
    ddb,
    sqs,
    apigw,
    sfn,
    lambda,
    kms,
    doc,
    deploy,
    stop: async () => {
      await lambda.stop();
      await Promise.allSettled([kms.stop(), ...urls.map((u) => u.stop())]);
      await sfn.stop?.();
      await Promise.allSettled([ddb.stop(), sqs.stop(), apigw.stop?.()]);
      ddbClient.destroy();
      sqsClient.destroy();
    },
  };
}
