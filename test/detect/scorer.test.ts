/**
 * The scheduled scorer against DynamoDB Local (tables created from the synthesized constructs). Step Functions
 * has no wire-compatible emulator here, so StartExecution is mocked (aws-sdk-client-mock), including the
 * ExecutionAlreadyExists error path.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { startDynamoDbLocal, type RunningEmulator } from '../../local/emulators/dynamodb-local';
import { createControlTable, createFeaturesTable } from '../../bench/features-table';
import { localDynamoDb } from '../../bench/local-dynamodb';
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { caseIdFor, nextCaseId, runScorer } from '../../lambdas/detect/scorer-core';
import { keys, PK_PREFIX } from '../../src/escalate/model';
import { WindowCache } from '../../lambdas/detect/window-reader';
import { HOUR, T0, population, windowsOf } from './fixtures';
import { firstSeenOf, putFeatures } from '../support/features';

let emu: RunningEmulator;
let ddb: DynamoDBClient;
const FEATURES = 'features-scorer-test';
const CONTROL = 'control-scorer-test';
const NOW = T0 + 3 * 24 * HOUR;
const pop = population();

beforeAll(async () => {
  emu = await startDynamoDbLocal();
  ddb = localDynamoDb(emu.endpoint);
  await createFeaturesTable(ddb, FEATURES);
  await createControlTable(ddb, CONTROL);
  await putFeatures(ddb, FEATURES, windowsOf(pop.reqs), firstSeenOf(pop.reqs), 30);
  // cot_7 is allowlisted by an operator; pivot_5 already has an open case.
  await ddb.send(
    new PutItemCommand({
      TableName: CONTROL,
      Item: marshall({
        pk: 'ALLOW#cot_7',
        sk: 'ALLOW',
        accountId: 'cot_7',
        owner: 'ops',
        reason: 'test',
        expiresAt: Math.floor(NOW / 1000) + 3600,
        gsi1pk: 'ALLOW',
        gsi1sk: 'cot_7',
      }),
    }),
  );
  await ddb.send(
    new PutItemCommand({ TableName: CONTROL, Item: marshall({ pk: 'ACCOUNT#pivot_5', sk: 'STATUS', status: 'active', openCaseId: 'case-x' }) }),
  );
}, 120_000);

afterAll(async () => {
  ddb?.destroy();
  await emu?.stop();
});

describe('scheduled scorer', () => {
  const sfnMock = mockClient(SFNClient);
  const deps = () => ({
    ddb,
    sfn: new SFNClient({ region: 'us-east-1' }),
    featuresTable: FEATURES,
    controlTable: CONTROL,
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:escalation',
    config: DEFAULT_DETECTION_CONFIG,
    lookbackHours: 72,
    now: NOW,
  });

  test('reads windows through the byHour GSI, scores, writes SCORE items and starts one workflow per flagged account', async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const summary = await runScorer(deps());
    expect(summary.accounts).toBe(new Set(pop.reqs.map((r) => r.accountId)).size);
    expect(summary.allowlisted).toBe(1);
    const started = sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    const startedIds = started.map((s) => JSON.parse(s.input!).accountId).sort();
    // Every campaign account (less the allowlisted and the already-open case), and the eval harness: its own
    // traffic is extraction-shaped, so it goes to review on its own (never to suspension).
    const expected = [...pop.campaign.filter((a) => a !== 'cot_7' && a !== 'pivot_5'), ...pop.evalHarness].sort();
    expect(startedIds).toEqual(expected);
    const first = started.find((c) => JSON.parse(c.input!).accountId.startsWith('cot_'))!;
    const input = JSON.parse(first.input!);
    expect(first.name).toBe(input.caseId);
    expect(input).toEqual(
      expect.objectContaining({
        caseId: caseIdFor(input.accountId, NOW),
        decision: 'review',
        flaggedAt: NOW,
        clusterId: expect.stringMatching(/^c-/),
        relatedAccountIds: expect.any(Array),
        reasons: expect.arrayContaining(['synchronized-activity']),
        evidence: expect.objectContaining({ cluster: expect.any(Object), features: expect.any(Object) }),
      }),
    );
    expect(input.reasonDetails[0]).toEqual({
      signal: expect.any(String),
      value: expect.any(Number),
      baseline: expect.any(Number),
      text: expect.any(String),
    });
    // The step (src/escalate/restriction.ts): a coordinated CoT campaign account gets restrict plus review; the eval
    // harness, extracting on its own with no coordination, review only; a suspend decision never carries one.
    expect(input.recommendedAction).toBe('restrict');
    const inputs = started.map((c) => JSON.parse(c.input!));
    for (const i of inputs.filter((x) => pop.evalHarness.includes(x.accountId)))
      expect({ id: i.accountId, step: i.recommendedAction }).toEqual({ id: i.accountId, step: undefined });
    for (const i of inputs.filter((x) => x.decision !== 'review')) expect(i.recommendedAction).toBeUndefined();
    const score = unmarshall((await ddb.send(new GetItemCommand({ TableName: CONTROL, Key: marshall(keys.accountScore('cot_0')) }))).Item!);
    expect(score).toEqual(expect.objectContaining({ decision: 'review', firstFlaggedAt: NOW, reasons: expect.arrayContaining(['cot-elicitation']) }));
    const allowed = await ddb.send(new GetItemCommand({ TableName: CONTROL, Key: marshall(keys.accountScore('cot_7')) }));
    expect(allowed.Item).toBeUndefined();
    // Organic accounts are never escalated, but for the eval harness that extracts on its own (review).
    for (const id of startedIds.filter((x) => !pop.evalHarness.includes(x))) expect(pop.organic).not.toContain(id);
  }, 120_000);

  test('the scorer never writes account status: every write goes to a SCORE# partition', async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const writes: Array<{ command: string; pk: string }> = [];
    const recording = new Proxy(ddb, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return (command: { constructor: { name: string }; input: { Key?: { pk?: { S?: string } } } }) => {
          if (/^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(command.constructor.name))
            writes.push({ command: command.constructor.name, pk: command.input.Key?.pk?.S ?? '?' });
          return target.send(command as never);
        };
      },
    });
    const statusBefore = (
      await ddb.send(new GetItemCommand({ TableName: CONTROL, Key: marshall(keys.accountStatus('pivot_5')), ConsistentRead: true }))
    ).Item;
    const summary = await runScorer({ ...deps(), ddb: recording });
    expect(summary.scoresWritten).toBeGreaterThan(0);
    expect(writes).toHaveLength(summary.scoresWritten);
    expect(writes.filter((w) => !w.pk.startsWith(PK_PREFIX.score))).toEqual([]);
    expect(
      (await ddb.send(new GetItemCommand({ TableName: CONTROL, Key: marshall(keys.accountStatus('pivot_5')), ConsistentRead: true }))).Item,
    ).toEqual(statusBefore);
  }, 120_000);

  test('a re-run keeps firstFlaggedAt and treats ExecutionAlreadyExists as an open case when the execution opened it', async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const later = NOW + 5 * 60_000;
    // Today's executions of cot_0 and cot_1 recorded their cases; the others' never did (they failed first).
    for (const a of ['cot_0', 'cot_1']) {
      await ddb.send(new PutItemCommand({ TableName: CONTROL, Item: marshall({ ...keys.case(caseIdFor(a, later)), accountId: a, state: 'open' }) }));
    }
    const summary = await runScorer({ ...deps(), now: later });
    expect(summary.casesStarted).toBe(0);
    // pivot_5 (STATUS.openCaseId) plus the two recorded cases
    expect(summary.casesAlreadyOpen).toBe(3);
    const flaggedForStart = sfnMock.commandCalls(StartExecutionCommand).length;
    expect(summary.casesStartFailed).toBe(flaggedForStart - 2);
    expect(summary.startFailures[0]).toEqual({
      accountId: expect.any(String),
      caseId: expect.any(String),
      reason: expect.stringMatching(/opened no case/),
    });
    const score = unmarshall((await ddb.send(new GetItemCommand({ TableName: CONTROL, Key: marshall(keys.accountScore('cot_0')) }))).Item!);
    expect(score.firstFlaggedAt).toBe(NOW);
    expect(score.updatedAt).toBe(new Date(NOW + 5 * 60_000).toISOString());
  }, 120_000);

  test('accounts with ordinary provider ids: a failed start (e.g. validation) is never counted as an open case, and the run goes on', async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error('Invalid Name'), { name: 'InvalidName' }));
    const summary = await runScorer({ ...deps(), now: NOW + 10 * 60_000 });
    const attempts = sfnMock.commandCalls(StartExecutionCommand).length;
    expect(attempts).toBeGreaterThan(1);
    expect(summary).toMatchObject({ casesStarted: 0, casesAlreadyOpen: 1, casesStartFailed: attempts });
    expect(summary.startFailures[0].reason).toMatch(/^InvalidName: Invalid Name/);
  }, 120_000);

  test('global shadow from CONFIG/SHADOW: scores are written, nothing is escalated', async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    await ddb.send(new PutItemCommand({ TableName: CONTROL, Item: marshall({ pk: 'CONFIG', sk: 'SHADOW', global: true, signals: [] }) }));
    const summary = await runScorer(deps());
    expect(summary.shadow.global).toBe(true);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(summary.decisions.suspend).toBe(0);
    expect(summary.decisions.monitor).toBeGreaterThan(0);
    await ddb.send(new PutItemCommand({ TableName: CONTROL, Item: marshall({ pk: 'CONFIG', sk: 'SHADOW', global: false, signals: [] }) }));
  }, 120_000);

  test('a warm run (windows and profiles kept from the previous run) decides exactly as a cold run', async () => {
    sfnMock.reset();
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const starts = () =>
      sfnMock
        .commandCalls(StartExecutionCommand)
        .map((c) => c.args[0].input.input!)
        .sort();
    const cold = await runScorer(deps());
    expect(cold.read).toMatchObject({ fetched: cold.windows, reused: 0 });
    const coldStarts = starts();
    const cache = new WindowCache();
    await runScorer({ ...deps(), cache });
    sfnMock.resetHistory();
    const warm = await runScorer({ ...deps(), cache });
    expect(warm.read).toMatchObject({ windows: cold.windows, fetched: 0, reused: cold.windows });
    expect(warm).toMatchObject({ profilesReused: cold.accounts, profilesRebuilt: 0 });
    expect([warm.accounts, warm.clusters, warm.decisions, warm.scoresWritten]).toEqual([
      cold.accounts,
      cold.clusters,
      cold.decisions,
      cold.scoresWritten,
    ]);
    expect(starts()).toEqual(coldStarts);
    expect(coldStarts.length).toBeGreaterThan(0);
  }, 120_000);

  test('one case per account per UTC day: an account whose case closed today (overdue, rejected, failed) is escalated again', async () => {
    const [a, b] = pop.campaign.filter((x) => x !== 'cot_7' && x !== 'pivot_5');
    const base = (acct: string) => caseIdFor(acct, NOW);
    // a: today's first case closed (e.g. overdue); b: already on its second attempt today, closed (rejected).
    await ddb.send(
      new PutItemCommand({
        TableName: CONTROL,
        Item: marshall({ pk: `ACCOUNT#${a}`, sk: 'STATUS', accountId: a, status: 'active', lastCaseId: base(a) }),
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: CONTROL,
        Item: marshall({ pk: `ACCOUNT#${b}`, sk: 'STATUS', accountId: b, status: 'active', lastCaseId: `${base(b)}-r1` }),
      }),
    );
    try {
      sfnMock.reset();
      sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
      await runScorer(deps());
      const names = Object.fromEntries(
        sfnMock.commandCalls(StartExecutionCommand).map((c) => [JSON.parse(c.args[0].input.input!).accountId, c.args[0].input]),
      );
      expect(names[a].name).toBe(`${base(a)}-r1`);
      expect(JSON.parse(names[a].input!).caseId).toBe(`${base(a)}-r1`);
      expect(names[b].name).toBe(`${base(b)}-r2`);
      expect(names[a].name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
      // The same state gives the same name: two scorer runs cannot open two cases.
      sfnMock.resetHistory();
      await runScorer({ ...deps(), now: NOW + 60_000 });
      const again = Object.fromEntries(
        sfnMock.commandCalls(StartExecutionCommand).map((c) => [JSON.parse(c.args[0].input.input!).accountId, c.args[0].input.name]),
      );
      expect(again[a]).toBe(`${base(a)}-r1`);
    } finally {
      for (const x of [a, b]) await ddb.send(new DeleteItemCommand({ TableName: CONTROL, Key: marshall({ pk: `ACCOUNT#${x}`, sk: 'STATUS' }) }));
    }
  }, 120_000);

  test('nextCaseId: the first case of the day has the plain id; a case of an earlier day does not count', () => {
    const base = caseIdFor('acct-1', NOW);
    expect(nextCaseId('acct-1', NOW)).toBe(base);
    expect(nextCaseId('acct-1', NOW, caseIdFor('acct-1', NOW - 24 * HOUR))).toBe(base);
    expect(nextCaseId('acct-1', NOW, `${caseIdFor('acct-1', NOW - 24 * HOUR)}-r3`)).toBe(base);
    expect(nextCaseId('acct-1', NOW, base)).toBe(`${base}-r1`);
    expect(nextCaseId('acct-1', NOW, `${base}-r9`)).toBe(`${base}-r10`);
    expect(nextCaseId('acct-1', NOW, 'case-from-elsewhere')).toBe(base);
  });

  test('case ids are valid execution names, stable per account and day', () => {
    const id = caseIdFor('acct:weird@name', NOW);
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(caseIdFor('acct:weird@name', NOW + HOUR)).toBe(id);
    expect(caseIdFor('acct:weird@name', NOW + 24 * HOUR)).not.toBe(id);
    expect(caseIdFor('acct_weird_name', NOW)).not.toBe(id);
  });
});
