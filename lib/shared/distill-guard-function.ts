import * as fs from 'fs';
import * as path from 'path';
import { AssetHashType, DockerImage, Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './alarms';
import { bundleHandler, FROM_PACKAGE, prebuiltBundleDir, sourceEntry } from './handler-bundles';
import { stackKey } from './stack-key';

/**
 * Props for {@link DistillGuardFunction}. Everything of lambda.FunctionProps except what the wrapper fixes.
 */
export interface DistillGuardFunctionProps extends Omit<lambda.FunctionProps, 'runtime' | 'architecture' | 'code' | 'handler'> {
  /**
   * Handler file, relative to the repository root (e.g. `lambdas/aggregate/handler.ts`); one of `HANDLER_ENTRIES`.
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
 * - code bundled by the LOCAL esbuild (no Docker), minified, with source maps, AWS SDK v3 left external
 *   (the runtime provides it): at synth from `lambdas/` in this repository, pre-built in the installed package
 *   (lib/shared/handler-bundles.ts);
 * - Powertools env: service name, metrics namespace `DistillGuard`, log level INFO;
 * - active X-Ray tracing; a dedicated log group with bounded retention, encrypted with the stack's key; 256 MB / 30 s
 *   unless overridden.
 */
export class DistillGuardFunction extends lambda.Function {
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
      code: handlerCode(entry),
      handler: `index.${props.handler ?? 'handler'}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
    });
  }
}

/** The pre-built bundle in the installed package; in this repository, the handler bundled at synth. */
function handlerCode(entry: string): lambda.Code {
  if (FROM_PACKAGE) {
    const dir = prebuiltBundleDir(entry);
    if (!fs.existsSync(`${dir}/index.js`)) throw new Error(`no pre-built bundle for ${entry} at ${dir} (npm run bundle writes it)`);
    return lambda.Code.fromAsset(dir);
  }
  return lambda.Code.fromAsset(path.dirname(sourceEntry(entry)), {
    // hashed by the bundle, as NodejsFunction does (and skipped, like any bundling, outside `aws:cdk:bundling-stacks`)
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Docker never runs: local bundling succeeds or throws. The command names the entry because the asset staging
      // cache is keyed by source folder and bundling options (not the tryBundle closure): without it every handler
      // of one folder would get the first one's bundle.
      image: DockerImage.fromRegistry('dummy'),
      command: ['bundle', entry],
      local: { tryBundle: (outDir) => (bundleHandler(entry, outDir), true) },
    },
  });
}
