/** Lambda functions, their URLs and event source mappings, and Step Functions state machines. */
import * as fs from 'fs';
import * as path from 'path';
import { BuildContext, ResourceHandler } from '../handler';
import { CfnResource, EventSourceKind, EventSourceMappingModel, functionUrlPlaceholder } from '../model';
import { bool, localName, num, parseArn, shortHash, str } from '../names';

/** The bundle directory of a function: the asset path CDK records in the metadata, or `asset.<hash>` of its S3 key. */
function assetDirFor(cdkOut: string, res: CfnResource, code: Record<string, unknown> | undefined): string | undefined {
  const metaPath = res.Metadata?.['aws:asset:path'];
  if (typeof metaPath === 'string') {
    const p = path.isAbsolute(metaPath) ? metaPath : path.join(cdkOut, metaPath);
    if (fs.existsSync(p)) return p;
  }
  const key = code?.S3Key;
  if (typeof key === 'string') {
    const hash = key.replace(/\.zip$/, '');
    const p = path.join(cdkOut, `asset.${hash}`);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function eventSourceKind(id: string, src: string): EventSourceKind {
  const service = parseArn(src).service;
  if (service === 'kinesis' || service === 'dynamodb' || service === 'sqs') return service;
  throw new Error(`event source mapping ${id}: unsupported source ${src}`);
}

function eventSourceMapping(ctx: BuildContext, id: string, P: Record<string, unknown>): EventSourceMappingModel {
  const { resolver: r, stackName, resources, physical } = ctx;
  const src = String(r.resolve(P.EventSourceArn));
  const kind = eventSourceKind(id, src);
  const fnRaw = P.FunctionName as Record<string, unknown> | string;
  const fnLogical = typeof fnRaw === 'object' && fnRaw && 'Ref' in fnRaw ? String(fnRaw.Ref) : undefined;
  const fnName = String(r.resolve(fnRaw));
  const dest = r.resolve(P.DestinationConfig) as { OnFailure?: { Destination?: string } } | undefined;
  const filters = ((r.resolve(P.FilterCriteria) as { Filters?: Array<{ Pattern?: string }> } | undefined)?.Filters ?? [])
    .filter((f) => f.Pattern)
    .map((f) => (typeof f.Pattern === 'string' ? JSON.parse(f.Pattern) : f.Pattern) as Record<string, unknown>);
  const isStream = kind !== 'sqs';
  const scaling = r.resolve(P.ScalingConfig) as { MaximumConcurrency?: number } | undefined;
  return {
    logicalId: id,
    uuid: `${shortHash(`${stackName}/${id}`)}-0000-4000-8000-${shortHash(id).padEnd(12, '0')}`,
    kind,
    eventSourceArn: src,
    sourceLogicalId: ctx.logicalByArn.get(src),
    functionLogicalId:
      fnLogical ??
      [...resources].find(
        ([fid, fres]) => fres.Type === 'AWS::Lambda::Function' && (physical[fid] === fnName || r.attrs.get(`${fid}.Arn`) === fnName),
      )?.[0],
    functionName: fnName.startsWith('arn:')
      ? parseArn(fnName)
          .resource.replace(/^function:/, '')
          .split(':')[0]
      : fnName,
    batchSize: num(r.resolve(P.BatchSize)) ?? (kind === 'sqs' ? 10 : 100),
    maximumBatchingWindowInSeconds: num(r.resolve(P.MaximumBatchingWindowInSeconds)) ?? 0,
    bisectBatchOnFunctionError: bool(r.resolve(P.BisectBatchOnFunctionError), false),
    maximumRetryAttempts: isStream ? (num(r.resolve(P.MaximumRetryAttempts)) ?? -1) : 0,
    maximumRecordAgeInSeconds: isStream ? (num(r.resolve(P.MaximumRecordAgeInSeconds)) ?? -1) : -1,
    functionResponseTypes: (r.resolve(P.FunctionResponseTypes) as string[]) ?? [],
    onFailureDestinationArn: dest?.OnFailure?.Destination,
    filterPatterns: filters,
    startingPosition: str(r.resolve(P.StartingPosition)) as EventSourceMappingModel['startingPosition'],
    startingPositionTimestamp: num(r.resolve(P.StartingPositionTimestamp)),
    parallelizationFactor: num(r.resolve(P.ParallelizationFactor)) ?? 1,
    tumblingWindowInSeconds: num(r.resolve(P.TumblingWindowInSeconds)),
    enabled: bool(r.resolve(P.Enabled), true),
    maximumConcurrency: scaling?.MaximumConcurrency,
  };
}

export const COMPUTE_RESOURCES: Record<string, ResourceHandler> = {
  'AWS::Lambda::Function': {
    physicalName: (ctx, id) => localName(ctx.stackName, id, 64),
    nameProperty: 'FunctionName',
    attributes: ({ resolver: r, arn }, id, name) => r.setAttr(id, 'Arn', arn('lambda', `function:${name}`)),
    addToModel: ({ resolver: r, model, cdkOut }, id, name, P, res) => {
      const code = r.resolve(P.Code) as Record<string, unknown> | undefined;
      const env = ((r.resolve(P.Environment) as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
      const environment: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== null) environment[k] = typeof v === 'string' ? v : JSON.stringify(v);
      const archs = r.resolve(P.Architectures) as string[] | undefined;
      model.functions.push({
        logicalId: id,
        name,
        arn: r.getAtt(id, 'Arn'),
        handler: str(r.resolve(P.Handler)) ?? 'index.handler',
        runtime: str(r.resolve(P.Runtime)),
        codeDir: assetDirFor(cdkOut, res, code),
        inlineCode: str(code?.ZipFile),
        environment,
        timeoutSeconds: num(r.resolve(P.Timeout)) ?? 3,
        memoryMb: num(r.resolve(P.MemorySize)) ?? 128,
        architecture: archs?.[0],
        reservedConcurrency: num(r.resolve(P.ReservedConcurrentExecutions)),
        deadLetterArn: str((r.resolve(P.DeadLetterConfig) as { TargetArn?: string } | undefined)?.TargetArn),
      });
    },
  },
  'AWS::Lambda::Url': {
    attributes: ({ resolver: r }, id) => r.setAttr(id, 'FunctionUrl', functionUrlPlaceholder(id)),
    addToModel: ({ resolver: r, model }, id, _name, P) => {
      const authType = str(r.resolve(P.AuthType)) === 'NONE' ? 'NONE' : 'AWS_IAM';
      model.functionUrls.push({
        logicalId: id,
        functionArn: String(r.resolve(P.TargetFunctionArn)),
        authType,
        placeholder: functionUrlPlaceholder(id),
      });
    },
  },
  'AWS::Lambda::EventSourceMapping': {
    addToModel: (ctx, id, _name, P) => ctx.model.eventSourceMappings.push(eventSourceMapping(ctx, id, P)),
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    attributes: ({ resolver: r, arn }, id, name) => {
      const a = arn('states', `stateMachine:${name}`);
      r.setRef(id, a);
      r.setAttr(id, 'Arn', a);
      r.setAttr(id, 'Name', name);
    },
    addToModel: ({ resolver: r, model }, id, name, P) => {
      let defString: string;
      if (P.DefinitionString !== undefined) defString = String(r.resolve(P.DefinitionString));
      else if (P.Definition !== undefined) defString = JSON.stringify(r.resolve(P.Definition));
      else throw new Error(`state machine ${id} has no definition (DefinitionS3Location is not supported locally)`);
      const subs = (r.resolve(P.DefinitionSubstitutions) as Record<string, unknown>) ?? {};
      defString = defString.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, k: string) => (k in subs ? String(subs[k]) : m));
      model.stateMachines.push({
        logicalId: id,
        name,
        arn: r.getAtt(id, 'Arn'),
        type: (str(r.resolve(P.StateMachineType)) ?? 'STANDARD') as 'STANDARD',
        definition: JSON.parse(defString) as Record<string, unknown>,
        definitionString: defString,
        roleArn: str(r.resolve(P.RoleArn)),
      });
    },
  },
};
