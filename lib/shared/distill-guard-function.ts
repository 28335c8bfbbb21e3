import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NodejsFunction, NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { stackKey } from './stack-key';

/** Repository root, so entries can be given relative to it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Props for {@link DistillGuardFunction}. Everything of NodejsFunctionProps except what the wrapper fixes.
 */
export interface DistillGuardFunctionProps
  extends Omit<NodejsFunctionProps, 'runtime' | 'architecture' | 'entry' | 'handler' | 'bundling'> {
  /**
   * Handler file, relative to the repository root (e.g. `lambdas/aggregate/handler.ts`).
   */
  readonly entry: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Powertools service name (POWERTOOLS_SERVICE_NAME), used by the shared Logger/Metrics/Tracer.
   */
  readonly serviceName: string;
  /**
   * Retention of the function's own log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key of the function's own log group (ignored when `logGroup` is given).
   * @default the stack's key (lib/shared/stack-key.ts)
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * The one way distill-guard builds a Lambda function. Defaults it fixes (so no stage re-decides them):
 * - Node.js 22 on ARM64 (Graviton: cheaper per GB-s);
 * - bundled by the LOCAL esbuild (no Docker), minified, with source maps, AWS SDK v3 left external
 *   (the runtime provides it);
 * - Powertools env: service name, metrics namespace `DistillGuard`, log level INFO;
 * - active X-Ray tracing; a dedicated log group with bounded retention, encrypted with the stack's key; 256 MB / 30 s
 *   unless overridden.
 */
export class DistillGuardFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: DistillGuardFunctionProps) {
    const { entry, serviceName, logRetention, logEncryptionKey, environment, ...rest } = props;
    const logGroup =
      props.logGroup ??
      new logs.LogGroup(scope, `${id}Logs`, {
        retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
        // Function logs carry account ids, API key ids and error details: encrypted with a key the account controls.
        encryptionKey: logEncryptionKey ?? stackKey(scope),
      });
    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      ...rest,
      logGroup,
      entry: path.join(REPO_ROOT, entry),
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: OutputFormat.CJS,
        externalModules: ['@aws-sdk/*'],
      },
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'DistillGuard',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
    });
  }
}
