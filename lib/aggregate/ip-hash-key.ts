/**
 * The key the aggregators hash source IPs with (src/ingest/ip.ts). With the public default key a stored hash is
 * reversible: the /24 is stored beside it, so 256 guesses recover the address. So every deployment gets its own
 * secret: a Secrets Manager secret generated at deploy time, encrypted with the stack's key, readable by the
 * aggregator functions only, which fetch it once per execution environment (lambdas/aggregate/ip-hash-key.ts).
 *
 * The public default key stays for demos (features comparable with `distill-guard replay` output, no secret to pay
 * for): opting in needs both the `publicIpHashKey` prop and the context flag `distill-guard:demo`, so a production
 * synth can never end up with it by a default or a copied prop.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { stackKey } from '../shared/stack-key';

/** Context flag (cdk.json or `-c distill-guard:demo=true`) that marks a demo deployment. */
export const DEMO_CONTEXT_KEY = 'distill-guard:demo';
/** The function environment variable naming the secret. */
export const IP_HASH_SECRET_ENV = 'IP_HASH_SECRET_ARN';

export interface IpHashKeyProps {
  /**
   * The secret holding the IP hash key (a string of at least 32 characters). Give the same secret to every function
   * that writes the same features table, or their hashes will not match.
   * @default - a new generated secret (64 characters), encrypted with the stack's key
   */
  readonly ipHashKeySecret?: secretsmanager.ISecret;
  /**
   * Demo only: hash source IPs with the public default key of src/ingest/ip.ts (reversible) instead of a secret.
   * Refused unless the context flag `distill-guard:demo` is true.
   * @default false
   */
  readonly publicIpHashKey?: boolean;
}

/** True when the app runs with `distill-guard:demo` set to true (boolean or the string `true` from `-c`). */
export function isDemo(scope: Construct): boolean {
  const v: unknown = scope.node.tryGetContext(DEMO_CONTEXT_KEY);
  return v === true || v === 'true';
}

/**
 * Give `fn` its IP hash key: the secret given, else (when `create` is set) a new one, with a read grant and
 * `IP_HASH_SECRET_ARN`. Returns the secret, or undefined in demo mode with the public key. Throws when the function
 * would otherwise run with the public default key.
 */
export function wireIpHashKey(
  scope: Construct,
  fn: lambda.Function,
  props: IpHashKeyProps & { create: boolean; removalPolicy?: RemovalPolicy },
): secretsmanager.ISecret | undefined {
  const where = fn.node.path;
  if (props.publicIpHashKey && props.ipHashKeySecret) {
    throw new Error(`${where}: give ipHashKeySecret or publicIpHashKey, not both (got a secret and publicIpHashKey true)`);
  }
  if (props.publicIpHashKey) {
    if (!isDemo(scope)) {
      throw new Error(
        `${where} would hash source IPs with the public default key, which anyone can reverse (256 guesses per stored /24): ` +
          `drop publicIpHashKey to get a per-deployment secret, or mark a demo deployment with the context flag ${DEMO_CONTEXT_KEY}=true ` +
          `(got publicIpHashKey true, ${DEMO_CONTEXT_KEY} ${JSON.stringify(scope.node.tryGetContext(DEMO_CONTEXT_KEY))})`,
      );
    }
    return undefined;
  }
  let secret = props.ipHashKeySecret;
  if (!secret) {
    if (!props.create) {
      throw new Error(`${where} has no IP hash key: give it ipHashKeySecret (the one the other aggregators of its features table use), got none`);
    }
    secret = new secretsmanager.Secret(scope, 'IpHashKey', {
      description: 'distill-guard: key of the source-IP hashes in the features table (never rotate: hashes would stop matching)',
      encryptionKey: stackKey(scope),
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
  secret.grantRead(fn);
  fn.addEnvironment(IP_HASH_SECRET_ENV, secret.secretArn);
  return secret;
}
