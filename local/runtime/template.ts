/**
 * Reads a synthesized CloudFormation template (plus the cdk.out asset layout) and turns it into the local model
 * the runtime needs: every table, stream, queue, bus, rule, function, event source mapping, state machine and
 * schedule, with intrinsic functions resolved to LOCAL physical names and ARNs.
 *
 * Hand-written: no library resolves CloudFormation intrinsics to local names (cfn-resolver-lib and friends target
 * deployed stacks). Physical names are deterministic from the logical id so that two runs of the same template
 * name everything identically, unless the template gives an explicit name (TableName, QueueName, ...).
 *
 * Each resource type is one entry of the registry in ./template/resources/ (its physical name, naming property,
 * `Ref` / `Fn::GetAtt` values and model entry): supporting a new type touches that one place. This file runs the
 * phases over the template in order, because names must all be known before any attribute, and attributes before
 * any model entry: physical names, explicit names, attributes, model.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BuildContext } from './template/handler';
import { CfnResource, CfnTemplate, FunctionModel, LocalEnvironment, LocalStackModel } from './template/model';
import { localName, parseArn } from './template/names';
import { TemplateResolver } from './template/resolver';
import { RESOURCE_HANDLERS } from './template/resources';

export * from './template/model';
export { bucketName, localName, parseArn } from './template/names';
export { TemplateResolver } from './template/resolver';

export interface LoadOptions extends LocalEnvironment {
  /** The cloud assembly directory. @default 'cdk.out' */
  readonly cdkOut?: string;
  /** The stack (artifact) name. @default the only stack in the assembly, or 'DistillGuard' */
  readonly stackName?: string;
}

interface CdkManifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string }; displayName?: string }>;
}

/** Finds the template file of a stack in a cloud assembly via manifest.json. */
export function findTemplateFile(cdkOut: string, stackName?: string): { stackName: string; file: string } {
  const manifestFile = path.join(cdkOut, 'manifest.json');
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CdkManifest;
    const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    const pick = stackName
      ? stacks.find(([id, a]) => id === stackName || a.displayName === stackName)
      : stacks.length === 1
        ? stacks[0]
        : stacks.find(([id]) => id === 'DistillGuard');
    if (pick) {
      return { stackName: pick[0], file: path.join(cdkOut, pick[1].properties?.templateFile ?? `${pick[0]}.template.json`) };
    }
    if (stackName) throw new Error(`stack ${stackName} not found in ${manifestFile}; stacks: ${stacks.map(([id]) => id).join(', ') || 'none'}`);
  }
  const name = stackName ?? 'DistillGuard';
  const file = path.join(cdkOut, `${name}.template.json`);
  if (!fs.existsSync(file)) throw new Error(`no template for stack ${name} in ${cdkOut} (expected ${file}); run cdk synth first`);
  return { stackName: name, file };
}

export function loadStackModel(opts: LoadOptions = {}): LocalStackModel {
  const cdkOut = path.resolve(opts.cdkOut ?? 'cdk.out');
  const { stackName, file } = findTemplateFile(cdkOut, opts.stackName);
  const template = JSON.parse(fs.readFileSync(file, 'utf8')) as CfnTemplate;
  return buildStackModel(template, { ...opts, cdkOut, stackName });
}

export interface BuildOptions extends LocalEnvironment {
  readonly cdkOut: string;
  readonly stackName: string;
}

function emptyModel(template: CfnTemplate, ctx: Omit<BuildContext, 'model'>): LocalStackModel {
  const { stackName, region, accountId, partition, resolver: r } = ctx;
  return {
    stackName,
    region,
    accountId,
    partition,
    template,
    tables: [],
    streams: [],
    queues: [],
    buses: [],
    rules: [],
    functions: [],
    eventSourceMappings: [],
    stateMachines: [],
    schedules: [],
    apiKeys: [],
    usagePlans: [],
    usagePlanKeys: [],
    secrets: [],
    buckets: [],
    functionUrls: [],
    subscriptionFilters: [],
    outputs: {},
    ignored: {},
    resolve: (v) => r.resolve(v),
    physicalIds: ctx.physical,
  };
}

function buildContext(template: CfnTemplate, opts: BuildOptions): BuildContext {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const partition = opts.partition ?? 'aws';
  const stackName = opts.stackName;
  const resolver = new TemplateResolver(template, {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::Partition': partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
    'AWS::NotificationARNs': '',
  });
  const base: Omit<BuildContext, 'model'> = {
    resolver,
    stackName,
    region,
    accountId,
    partition,
    sqsEndpoint: (opts.sqsEndpoint ?? 'http://127.0.0.1:9324').replace(/\/$/, ''),
    cdkOut: opts.cdkOut,
    resources: Object.entries(template.Resources ?? {}).filter(([, res]) => !res.Condition || resolver.condition(res.Condition)),
    physical: {},
    logicalByArn: new Map(),
    arn: (service: string, resource: string): string => `arn:${partition}:${service}:${region}:${accountId}:${resource}`,
    explicitName: (res: CfnResource, prop: string): string | undefined => {
      const v = res.Properties?.[prop];
      return v === undefined ? undefined : String(resolver.resolve(v));
    },
  };
  return { ...base, model: emptyModel(template, base) };
}

/** Physical ids of everything, then the explicit names (they can reference pseudo parameters or other names). */
function assignNames(ctx: BuildContext): void {
  const { resources, physical, resolver: r } = ctx;
  for (const [id, res] of resources) {
    const physicalName = RESOURCE_HANDLERS[res.Type]?.physicalName;
    physical[id] = physicalName ? physicalName(ctx, id, res) : localName(ctx.stackName, id, 128);
    r.setRef(id, physical[id]);
  }
  for (const [id, res] of resources) {
    const prop = RESOURCE_HANDLERS[res.Type]?.nameProperty;
    if (!prop) continue;
    const n = ctx.explicitName(res, prop);
    if (n) {
      physical[id] = n;
      r.setRef(id, n);
    }
  }
}

/** References and attributes, then the index of ARNs to logical ids (event source mappings look sources up in it). */
function assignAttributes(ctx: BuildContext): void {
  for (const [id, res] of ctx.resources) RESOURCE_HANDLERS[res.Type]?.attributes?.(ctx, id, ctx.physical[id], res);
  for (const [id] of ctx.resources) {
    for (const attr of ['Arn', 'StreamArn']) {
      const v = ctx.resolver.attrs.get(`${id}.${attr}`);
      if (v) ctx.logicalByArn.set(v, id);
    }
  }
}

export function buildStackModel(template: CfnTemplate, opts: BuildOptions): LocalStackModel {
  const ctx = buildContext(template, opts);
  assignNames(ctx);
  assignAttributes(ctx);
  const { model } = ctx;
  for (const [id, res] of ctx.resources) {
    const addToModel = RESOURCE_HANDLERS[res.Type]?.addToModel;
    if (addToModel) addToModel(ctx, id, ctx.physical[id], (res.Properties ?? {}) as Record<string, unknown>, res);
    else model.ignored[res.Type] = (model.ignored[res.Type] ?? 0) + 1;
  }
  for (const [k, o] of Object.entries(template.Outputs ?? {})) {
    try {
      model.outputs[k] = String(ctx.resolver.resolve(o.Value));
    } catch {
      // outputs that import values are not needed locally
    }
  }
  return model;
}

/** Finds the function a Lambda ARN / name / partial ARN refers to. */
export function findFunction(model: LocalStackModel, ref: string): FunctionModel | undefined {
  let name = ref;
  if (ref.startsWith('arn:')) {
    const { resource } = parseArn(ref);
    // function:NAME[:qualifier]
    name = resource.replace(/^function:/, '').split(':')[0];
  } else if (ref.includes(':')) name = ref.split(':')[0];
  return (
    model.functions.find((f) => f.name === name || f.logicalId === name || f.arn === ref) ??
    // a construct id: CDK logical ids are the construct path plus an 8-hex-digit hash
    model.functions.find((f) => new RegExp(`^${name.replace(/[^A-Za-z0-9]/g, '')}[0-9A-F]{8}$`).test(f.logicalId))
  );
}
