/** DynamoDB tables, Kinesis streams, SQS queues, S3 buckets and Secrets Manager secrets. */
import { BuildContext, ResourceHandler } from '../handler';
import { KeyAttr, TableModel } from '../model';
import { bool, bucketName, localName, num, str } from '../names';

/** The fields of `AWS::DynamoDB::Table` indexes read here (resolved values). */
interface CfnIndex {
  IndexName?: unknown;
  KeySchema?: unknown;
  Projection?: { ProjectionType?: string; NonKeyAttributes?: unknown };
}

const keyOf = (defs: KeyAttr[], schema: unknown, which: 'HASH' | 'RANGE'): KeyAttr | undefined => {
  const k = (schema as Array<{ AttributeName: string; KeyType: string }>).find((e) => e.KeyType === which);
  if (!k) return undefined;
  const d = defs.find((a) => a.name === k.AttributeName);
  if (!d) throw new Error(`key ${k.AttributeName} has no attribute definition`);
  return d;
};

function tableModel({ resolver: r }: BuildContext, id: string, name: string, P: Record<string, unknown>): TableModel {
  const defs = ((r.resolve(P.AttributeDefinitions) as Array<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>) ?? []).map((d) => ({
    name: d.AttributeName,
    type: d.AttributeType,
  }));
  const ks = r.resolve(P.KeySchema);
  const gsis = ((r.resolve(P.GlobalSecondaryIndexes) as CfnIndex[] | undefined) ?? []).map((g) => ({
    name: String(g.IndexName),
    partitionKey: keyOf(defs, g.KeySchema, 'HASH')!,
    sortKey: keyOf(defs, g.KeySchema, 'RANGE'),
    projectionType: (g.Projection?.ProjectionType ?? 'ALL') as 'ALL',
    nonKeyAttributes: g.Projection?.NonKeyAttributes as string[] | undefined,
  }));
  const lsis = ((r.resolve(P.LocalSecondaryIndexes) as CfnIndex[] | undefined) ?? []).map((g) => ({
    name: String(g.IndexName),
    sortKey: keyOf(defs, g.KeySchema, 'RANGE')!,
    projectionType: (g.Projection?.ProjectionType ?? 'ALL') as 'ALL',
    nonKeyAttributes: g.Projection?.NonKeyAttributes as string[] | undefined,
  }));
  const ttl = r.resolve(P.TimeToLiveSpecification) as { AttributeName?: string; Enabled?: boolean } | undefined;
  const stream = r.resolve(P.StreamSpecification) as { StreamViewType?: TableModel['streamViewType'] } | undefined;
  return {
    logicalId: id,
    name,
    arn: r.getAtt(id, 'Arn'),
    partitionKey: keyOf(defs, ks, 'HASH')!,
    sortKey: keyOf(defs, ks, 'RANGE'),
    attributeDefinitions: defs,
    globalSecondaryIndexes: gsis,
    localSecondaryIndexes: lsis,
    ttlAttribute: ttl?.Enabled ? ttl.AttributeName : undefined,
    streamViewType: stream?.StreamViewType,
    streamArn: stream?.StreamViewType ? r.getAtt(id, 'StreamArn') : undefined,
  };
}

export const DATA_RESOURCES: Record<string, ResourceHandler> = {
  'AWS::DynamoDB::Table': {
    physicalName: (ctx, id) => localName(ctx.stackName, id, 255),
    nameProperty: 'TableName',
    attributes: ({ resolver: r, arn }, id, name) => {
      r.setAttr(id, 'Arn', arn('dynamodb', `table/${name}`));
      r.setAttr(id, 'StreamArn', arn('dynamodb', `table/${name}/stream/local`));
    },
    addToModel: (ctx, id, name, P) => ctx.model.tables.push(tableModel(ctx, id, name, P)),
  },
  'AWS::DynamoDB::GlobalTable': {
    physicalName: (ctx, id) => localName(ctx.stackName, id, 255),
  },
  'AWS::Kinesis::Stream': {
    nameProperty: 'Name',
    attributes: ({ resolver: r, arn }, id, name) => r.setAttr(id, 'Arn', arn('kinesis', `stream/${name}`)),
    addToModel: ({ resolver: r, model }, id, name, P) => {
      const mode = r.resolve(P.StreamModeDetails) as { StreamMode?: string } | undefined;
      const onDemand = mode?.StreamMode === 'ON_DEMAND';
      model.streams.push({
        logicalId: id,
        name,
        arn: r.getAtt(id, 'Arn'),
        onDemand,
        shardCount: onDemand ? undefined : (num(r.resolve(P.ShardCount)) ?? 1),
        retentionHours: num(r.resolve(P.RetentionPeriodHours)),
      });
    },
  },
  'AWS::SQS::Queue': {
    physicalName: (ctx, id, res) => {
      const fifo = bool(res.Properties?.FifoQueue, false);
      return `${localName(ctx.stackName, id, fifo ? 75 : 80)}${fifo ? '.fifo' : ''}`;
    },
    nameProperty: 'QueueName',
    attributes: ({ resolver: r, arn, sqsEndpoint, accountId }, id, name) => {
      const url = `${sqsEndpoint}/${accountId}/${name}`;
      r.setRef(id, url);
      r.setAttr(id, 'QueueUrl', url);
      r.setAttr(id, 'QueueName', name);
      r.setAttr(id, 'Arn', arn('sqs', name));
    },
    addToModel: ({ resolver: r, model }, id, name, P) => {
      let redrive = r.resolve(P.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number } | string | undefined;
      if (typeof redrive === 'string') redrive = JSON.parse(redrive) as { deadLetterTargetArn?: string; maxReceiveCount?: number };
      model.queues.push({
        logicalId: id,
        name,
        arn: r.getAtt(id, 'Arn'),
        url: r.getAtt(id, 'QueueUrl'),
        fifo: bool(P.FifoQueue, false),
        visibilityTimeout: num(r.resolve(P.VisibilityTimeout)),
        messageRetentionPeriod: num(r.resolve(P.MessageRetentionPeriod)),
        redrive: redrive?.deadLetterTargetArn
          ? { deadLetterTargetArn: redrive.deadLetterTargetArn, maxReceiveCount: Number(redrive.maxReceiveCount ?? 1) }
          : undefined,
      });
    },
  },
  'AWS::S3::Bucket': {
    physicalName: (ctx, id) => bucketName(ctx.stackName, id),
    nameProperty: 'BucketName',
    attributes: ({ resolver: r, partition, region }, id, name) => {
      // S3 ARNs have no region or account; the domain names are what CloudFormation returns (not reachable locally)
      r.setAttr(id, 'Arn', `arn:${partition}:s3:::${name}`);
      r.setAttr(id, 'DomainName', `${name}.s3.amazonaws.com`);
      r.setAttr(id, 'RegionalDomainName', `${name}.s3.${region}.amazonaws.com`);
      r.setAttr(id, 'DualStackDomainName', `${name}.s3.dualstack.${region}.amazonaws.com`);
      r.setAttr(id, 'WebsiteURL', `http://${name}.s3-website-${region}.amazonaws.com`);
    },
    addToModel: ({ resolver: r, model }, id, name, P) => {
      const versioning = r.resolve(P.VersioningConfiguration) as { Status?: string } | undefined;
      model.buckets.push({ logicalId: id, name, arn: r.getAtt(id, 'Arn'), versioned: versioning?.Status === 'Enabled' });
    },
  },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    attributes: ({ resolver: r, arn }, id, name) => {
      // Ref is the secret's ARN (local ARNs have no random suffix; local/services/secretsmanager.ts)
      r.setRef(id, arn('secretsmanager', `secret:${name}`));
      r.setAttr(id, 'Id', arn('secretsmanager', `secret:${name}`));
    },
    addToModel: ({ resolver: r, model }, id, name, P) => {
      const gen = r.resolve(P.GenerateSecretString) as Record<string, unknown> | undefined;
      model.secrets.push({
        logicalId: id,
        name,
        arn: r.ref(id),
        secretString: str(r.resolve(P.SecretString)),
        generate: gen
          ? {
              passwordLength: num(gen.PasswordLength),
              excludePunctuation: bool(gen.ExcludePunctuation, false),
              excludeCharacters: str(gen.ExcludeCharacters),
              includeSpace: bool(gen.IncludeSpace, false),
            }
          : undefined,
      });
    },
  },
};
