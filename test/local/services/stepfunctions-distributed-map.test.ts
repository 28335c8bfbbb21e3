/**
 * Distributed Map on the local Step Functions, run from the detection run's state machine the Scorer construct
 * synthesizes (definition resolved by the local runtime's template resolver, as `npm start` does): the items of each
 * map come from the execution input, `ItemSelector` builds each child's event from `$$.Map.Item.Value` and the plan
 * (the input's, then the offsets step's), `MaxConcurrency` bounds the children at once, the stages run in order and
 * the scorer step gets the plan. A failed child fails the map with the AWS error; what the emulator would run
 * differently is refused at creation.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfnCdk from 'aws-cdk-lib/aws-stepfunctions';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Scorer } from '../../../lib/detect/scorer';
import { TemplateResolver, type CfnTemplate } from '../../../local/runtime/template';
import { localClientConfig } from '../../../local/services/clients';
import { startStepFunctions, type LocalStepFunctions } from '../../../local/services/stepfunctions';

/** The linkage state machine's definition from a synthesized Scorer, with function ARNs resolved locally. */
function linkageDefinition(maxConcurrency: number): string {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Local');
  const table = (id: string) =>
    new dynamodb.Table(stack, id, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
  const workflow = new sfnCdk.StateMachine(stack, 'Workflow', { definitionBody: sfnCdk.DefinitionBody.fromChainable(new sfnCdk.Pass(stack, 'P')) });
  new Scorer(stack, 'Scorer', { featuresTable: table('F'), controlTable: table('C'), stateMachine: workflow, linkageMaxConcurrency: maxConcurrency });
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  const resolver = new TemplateResolver(template, { 'AWS::Region': 'us-east-1', 'AWS::AccountId': '000000000000', 'AWS::Partition': 'aws' });
  for (const [id, res] of Object.entries(template.Resources)) {
    if (res.Type === 'AWS::Lambda::Function') resolver.setAttr(id, 'Arn', `arn:aws:lambda:us-east-1:000000000000:function:${id}`);
  }
  const sm = Object.values(template.Resources).find((r) => r.Properties?.StateMachineName)!;
  return String(resolver.resolve(sm.Properties!.DefinitionString as never));
}

let local: LocalStepFunctions;
let sfn: SFNClient;
const calls: Array<{ fn: string; payload: any; at: number }> = [];
let active = 0;
let peak = 0;
let failPart: number | undefined;

beforeAll(async () => {
  local = await startStepFunctions({
    invokeLambda: async (fn, payload) => {
      calls.push({ fn, payload, at: calls.length });
      active++;
      peak = Math.max(peak, active);
      try {
        await new Promise((r) => setTimeout(r, 20));
        const p = payload as { stage?: string; part?: number };
        if (p.stage === 'index' && p.part === failPart) throw Object.assign(new Error('out of memory'), { name: 'Runtime.OutOfMemory' });
        if (p.stage === 'offsets') return { stage: 'offsets', part: 0, ms: 1, plan: runPlan };
        return fn.includes('ScorerFunction') ? { path: 'sharded-finish' } : { stage: p.stage, part: p.part, ms: 1 };
      } finally {
        active--;
      }
    },
  });
  sfn = new SFNClient(localClientConfig('sfn', local.endpoint));
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  await local?.stop();
});

beforeEach(() => {
  calls.length = 0;
  peak = 0;
  failPart = undefined;
});

const plan = {
  prefix: 'runs/linkage-1/',
  accounts: 0,
  accountShards: 5,
  keyPartitions: 4,
  periodStart: 0,
  periodEnd: 1,
  bounds: ['b', 'd', 'f', 'h'],
};
/** What the offsets step answers: the plan with positions. */
const runPlan = { ...plan, accounts: 50, offsets: [0, 10, 20, 30, 40, 50] };
const runInput = { time: '2026-12-06T13:40:00.000Z', plan, shards: [0, 1, 2, 3, 4], partitions: [0, 1, 2, 3] };

async function run(name: string, definition: string) {
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: 'arn:aws:iam::000000000000:role/sfn' }));
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'linkage-1', input: JSON.stringify(runInput) }));
  await local.waitForExecution(executionArn!, 30_000);
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

test('the synthesized run machine: every part of each stage, in stage order, at most MaxConcurrency at once, then the scorer', async () => {
  const out = await run('linkage', linkageDefinition(2));
  expect(out.status).toBe('SUCCEEDED');
  const stages = calls.filter((c) => !c.fn.includes('ScorerFunction'));
  const runs = (stage: string, n: number) => Array(n).fill(stage);
  expect(stages.map((c) => c.payload.stage)).toEqual([
    ...runs('profiles', 5),
    'offsets',
    ...runs('partition', 5),
    ...runs('frequencies', 4),
    ...runs('index', 5),
    ...runs('pairs', 4),
    'merge',
    ...runs('parts', 5),
    'reduce',
    ...runs('decide', 5),
  ]);
  // the profiles and decide children are the shard function, every other stage the stage function
  for (const c of stages)
    expect([c.payload.stage, /ShardFunction/.test(c.fn)]).toEqual([c.payload.stage, ['profiles', 'decide'].includes(c.payload.stage)]);
  expect(stages.filter((c) => c.payload.stage === 'index').map((c) => c.payload.part)).toEqual([0, 1, 2, 3, 4]);
  // the plan: the input's until the offsets step, that step's answer after it
  for (const c of stages)
    expect([c.payload.stage, c.payload.plan]).toEqual([c.payload.stage, ['profiles', 'offsets'].includes(c.payload.stage) ? plan : runPlan]);
  expect(peak).toBe(2);
  const finish = calls[calls.length - 1];
  expect(finish.fn).toMatch(/ScorerFunction/);
  expect(finish.payload).toEqual({ time: runInput.time, sharded: { plan: runPlan } });
});

test('a failed child fails the map, and the run, with States.ExceedToleratedFailureThreshold; later stages do not run', async () => {
  failPart = 3;
  const out = await run('linkage-fail', linkageDefinition(1));
  expect(out.status).toBe('FAILED');
  expect(out.error).toBe('States.ExceedToleratedFailureThreshold');
  expect(calls.some((c) => c.payload.stage === 'pairs')).toBe(false);
  expect(calls.some((c) => c.fn.includes('ScorerFunction'))).toBe(false);
});

test('a Catch on the map sees the AWS error name', async () => {
  failPart = 0;
  const definition = JSON.stringify({
    StartAt: 'Index',
    States: {
      Index: {
        Type: 'Map',
        ItemsPath: '$.shards',
        ItemSelector: { stage: 'index', 'part.$': '$$.Map.Item.Value' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'Child',
          States: { Child: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:StageFn', End: true } },
        },
        Catch: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$.error', Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Pass', Result: 'caught', ResultPath: '$.outcome', End: true },
    },
  });
  const out = await run('linkage-catch', definition);
  expect(out.status).toBe('SUCCEEDED');
  expect(JSON.parse(out.output!)).toMatchObject({ outcome: 'caught', error: { Error: 'States.ExceedToleratedFailureThreshold' } });
});

test.each([
  [{ ToleratedFailurePercentage: 5 }, 'Distributed Map Index: ToleratedFailurePercentage other than 0 is not emulated locally, got 5'],
  [
    { ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: 'b' } } },
    'Distributed Map Index: ItemReader is not emulated locally',
  ],
])('refused at creation: %j', async (extra, message) => {
  const definition = JSON.stringify({
    StartAt: 'Index',
    States: {
      Index: {
        Type: 'Map',
        ItemsPath: '$.shards',
        ...extra,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'Child',
          States: { Child: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    },
  });
  await expect(
    sfn.send(new CreateStateMachineCommand({ name: `refused-${Object.keys(extra)[0]}`, definition, roleArn: 'arn:aws:iam::000000000000:role/sfn' })),
  ).rejects.toThrow(message);
});
