/**
 * A minimal local AWS Secrets Manager (AWS JSON 1.1, `X-Amz-Target: secretsmanager.<Operation>`), so the
 * aggregators' per-deployment IP hash key (lambdas/aggregate/ip-hash-key.ts) is read locally exactly as in AWS, from
 * a secret the local runtime creates from the template's `AWS::SecretsManager::Secret` (generated value included).
 *
 * Operations: CreateSecret (SecretString), PutSecretValue (SecretString: how an operator stores a value agreed
 * out of band, e.g. a partner's sharing key), GetSecretValue and DescribeSecret by name or ARN. A secret's local ARN is
 * `arn:aws:secretsmanager:<region>:<account>:secret:<name>` (no random suffix), which is also what the local
 * template resolver gives a `Ref` to it. Hand-written: no npm emulator covers Secrets Manager.
 *
 * Not emulated: versions and stages beyond AWSCURRENT, rotation, resource policies, KMS (the endpoint only checks a
 * SigV4 header is present; IAM is not evaluated).
 */
import { randomUUID } from 'crypto';
import { AwsServiceError, jsonProtocolHandler, listen, LocalEndpoint, LOCAL_ACCOUNT_ID, optionalString, requireString } from './aws-http';

export interface LocalSecretsManagerOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default a free port */
  readonly port?: number;
}

export interface LocalSecretsManager extends LocalEndpoint {
  /** Names of the secrets (tests). */
  names(): string[];
}

/** The local ARN of a secret named `name`. */
export function localSecretArn(name: string, region = 'us-east-1', accountId = LOCAL_ACCOUNT_ID): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}`;
}

export async function startSecretsManager(opts: LocalSecretsManagerOptions = {}): Promise<LocalSecretsManager> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const secrets = new Map<string, { name: string; arn: string; value: string; versionId: string; createdDate: number; description?: string }>();

  const find = (id: string) => {
    const name = id.startsWith('arn:') ? id.slice(id.indexOf(':secret:') + ':secret:'.length) : id;
    const s = secrets.get(name);
    if (!s) throw new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret: ${JSON.stringify(id)}`);
    return s;
  };

  const endpoint = await listen(
    jsonProtocolHandler({
      targetPrefix: 'secretsmanager',
      jsonVersion: '1.1',
      operations: {
        CreateSecret: (input) => {
          const name = requireString(input, 'Name');
          if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name))
            throw new AwsServiceError('ValidationException', `invalid secret name ${JSON.stringify(name)}`);
          const value = requireString(input, 'SecretString', 'InvalidRequestException');
          if (secrets.has(name)) throw new AwsServiceError('ResourceExistsException', `the secret ${name} already exists`);
          const s = {
            name,
            arn: localSecretArn(name, region, accountId),
            value,
            versionId: randomUUID(),
            createdDate: Date.now() / 1000,
            description: optionalString(input, 'Description'),
          };
          secrets.set(name, s);
          return { ARN: s.arn, Name: name, VersionId: s.versionId };
        },
        GetSecretValue: (input) => {
          const s = find(requireString(input, 'SecretId'));
          return {
            ARN: s.arn,
            Name: s.name,
            VersionId: s.versionId,
            SecretString: s.value,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: s.createdDate,
          };
        },
        PutSecretValue: (input) => {
          const s = find(requireString(input, 'SecretId'));
          s.value = requireString(input, 'SecretString', 'InvalidRequestException');
          s.versionId = randomUUID();
          return { ARN: s.arn, Name: s.name, VersionId: s.versionId, VersionStages: ['AWSCURRENT'] };
        },
        DescribeSecret: (input) => {
          const s = find(requireString(input, 'SecretId'));
          return { ARN: s.arn, Name: s.name, Description: s.description, CreatedDate: s.createdDate };
        },
      },
    }),
    opts.port ?? 0,
  );
  return { ...endpoint, names: () => [...secrets.keys()] };
}
