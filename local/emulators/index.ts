/**
 * Start every local AWS endpoint distill-guard needs, each on its own free 127.0.0.1 port, and hand back their
 * endpoints plus the environment that points the real AWS SDK v3 clients at them.
 *
 * | service        | backed by                                   | env var                        |
 * |----------------|---------------------------------------------|--------------------------------|
 * | Kinesis        | kinesalite (in-process, in-memory)          | AWS_ENDPOINT_URL_KINESIS       |
 * | DynamoDB       | DynamoDB Local (java, -inMemory)            | AWS_ENDPOINT_URL_DYNAMODB      |
 * | SQS            | fauxqs (in-process, or a child process)     | AWS_ENDPOINT_URL_SQS           |
 * | S3             | the same fauxqs server (objects, no notifications) | AWS_ENDPOINT_URL_S3     |
 * | EventBridge    | local/services/eventbridge.ts               | AWS_ENDPOINT_URL_EVENTBRIDGE   |
 * | Step Functions | local/services/stepfunctions.ts (+ aws-local-stepfunctions) | AWS_ENDPOINT_URL_SFN |
 * | API Gateway    | local/services/apigateway.ts (API keys)     | AWS_ENDPOINT_URL_API_GATEWAY   |
 * | Secrets Manager| local/services/secretsmanager.ts            | AWS_ENDPOINT_URL_SECRETS_MANAGER |
 * | KMS            | local/services/kms.ts (Encrypt/Decrypt)     | AWS_ENDPOINT_URL_KMS           |
 *
 * Usage:
 * ```ts
 * const emu = await startEmulators();
 * Object.assign(process.env, emu.env());   // handlers' `new XClient({})` now hit the emulators
 * ...
 * await emu.stop();
 * ```
 * Kinesis clients need `requestHandler: new NodeHttpHandler()` (HTTP/1.1): use `kinesisClient()` from ./kinesis.
 */
import { spawnSync } from 'child_process';
import { startDynamoDbLocal, RunningEmulator } from './dynamodb-local';
import { startKinesis, kinesisClient } from './kinesis';
import { startSqs, SqsEmulator } from './sqs';
import { startEventBridge, LocalEventBridge, LocalEventBridgeOptions } from '../services/eventbridge';
import { startStepFunctions, LocalStepFunctions, LocalStepFunctionsOptions } from '../services/stepfunctions';
import { startApiGateway, LocalApiGateway } from '../services/apigateway';
import { startSecretsManager, LocalSecretsManager } from '../services/secretsmanager';
import { startKms, LocalKms } from '../services/kms';
import { LOCAL_CREDENTIALS } from '../services/clients';

export { kinesisClient, startKinesis, startSqs };
export type { RunningEmulator };

export interface EmulatorsOptions {
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** Start DynamoDB Local (needs java). @default true */
  readonly dynamodb?: boolean;
  /** Options passed to the local Step Functions (lambda invoker, task handlers, timeouts...). */
  readonly stepFunctions?: Omit<LocalStepFunctionsOptions, 'region' | 'endpoints'>;
  /** Options passed to the local EventBridge (lambda invoker, ...). */
  readonly eventBridge?: Omit<LocalEventBridgeOptions, 'region' | 'sqsEndpoint' | 'sfnEndpoint'>;
  /** How long to wait for DynamoDB Local (a JVM) to listen. @default 120000 */
  readonly dynamodbStartTimeoutMs?: number;
  /** How fauxqs runs. @default 'auto' */
  readonly sqsMode?: 'auto' | 'in-process' | 'child-process';
}

export interface Emulators {
  readonly region: string;
  readonly kinesis: RunningEmulator;
  /** Undefined when started with `dynamodb: false`. */
  readonly dynamodb?: RunningEmulator;
  readonly sqs: SqsEmulator;
  readonly eventBridge: LocalEventBridge;
  readonly stepFunctions: LocalStepFunctions;
  readonly apiGateway: LocalApiGateway;
  readonly secretsManager: LocalSecretsManager;
  /** Encrypt/Decrypt with encryption context (the review task tokens). */
  readonly kms: LocalKms;
  /** Endpoint URL per service. */
  readonly endpoints: {
    kinesis: string;
    dynamodb?: string;
    sqs: string;
    s3: string;
    eventbridge: string;
    sfn: string;
    apiGateway: string;
    secretsManager: string;
    kms: string;
  };
  /**
   * Environment for processes/handlers: AWS_ENDPOINT_URL_<SERVICE> for each emulator, AWS_REGION,
   * AWS_DEFAULT_REGION and dummy AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
   */
  env(): Record<string, string>;
  /** Stop everything (in reverse order); safe to call twice. */
  stop(): Promise<void>;
}

/** Start all emulators. If one fails to start, the ones already started are stopped and the error rethrown. */
export async function startEmulators(opts: EmulatorsOptions = {}): Promise<Emulators> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (opts.dynamodb !== false) requireJava();
  const started: Array<{ stop(): Promise<void> }> = [];
  const track = <T extends { stop(): Promise<void> }>(x: T): T => {
    started.push(x);
    return x;
  };
  try {
    const [kinesis, dynamodb, sqs, apiGateway, secretsManager, kms] = await Promise.all([
      startKinesis().then(track),
      opts.dynamodb === false
        ? Promise.resolve(undefined)
        : startDynamoDbLocal({ startTimeoutMs: opts.dynamodbStartTimeoutMs ?? 120000 }).then(track),
      startSqs({ region, mode: opts.sqsMode }).then(track),
      startApiGateway().then(track),
      startSecretsManager({ region }).then(track),
      startKms({ region }).then(track),
    ]);
    // Step Functions integrations reach the other emulators; EventBridge delivers to SQS and Step Functions.
    const stepFunctions = track(
      await startStepFunctions({
        ...opts.stepFunctions,
        region,
        endpoints: { kinesis: kinesis.endpoint, dynamodb: dynamodb?.endpoint, sqs: sqs.endpoint, api_gateway: apiGateway.endpoint },
      }),
    );
    const eventBridge = track(
      await startEventBridge({ ...opts.eventBridge, region, sqsEndpoint: sqs.endpoint, sfnEndpoint: stepFunctions.endpoint }),
    );
    // late-bound: Step Functions' events:putEvents goes to the local bus
    stepFunctions.setEndpoints({ eventbridge: eventBridge.endpoint });
    const endpoints = {
      kinesis: kinesis.endpoint,
      ...(dynamodb ? { dynamodb: dynamodb.endpoint } : {}),
      sqs: sqs.endpoint,
      // fauxqs also speaks S3 on its port
      s3: sqs.endpoint,
      eventbridge: eventBridge.endpoint,
      sfn: stepFunctions.endpoint,
      apiGateway: apiGateway.endpoint,
      secretsManager: secretsManager.endpoint,
      kms: kms.endpoint,
    };
    const env = (): Record<string, string> => ({
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
      ...(dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint } : {}),
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      // fauxqs also speaks S3 on its port; an IP endpoint makes the SDK use path-style URLs by itself
      AWS_ENDPOINT_URL_S3: sqs.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint,
      AWS_ENDPOINT_URL_API_GATEWAY: apiGateway.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
    });
    let stopped: Promise<void> | undefined;
    return {
      region,
      kinesis,
      dynamodb,
      sqs,
      eventBridge,
      stepFunctions,
      apiGateway,
      secretsManager,
      kms,
      endpoints,
      env,
      stop: () => (stopped ??= stopAll(started)),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** DynamoDB Local is a JVM: fail early with a clear message instead of a spawn ENOENT. */
function requireJava(): void {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 20000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'java is not on PATH: DynamoDB Local needs java 17+ (e.g. apt-get install -y openjdk-17-jre-headless), or start with { dynamodb: false }',
    );
  }
}

async function stopAll(started: Array<{ stop(): Promise<void> }>): Promise<void> {
  for (const s of [...started].reverse()) {
    try {
      await s.stop();
    } catch {
      /* best effort */
    }
  }
}
