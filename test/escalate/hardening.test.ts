/**
 * Holes in the escalation stage, each probed on the synthesized state machine run locally (support/harness.ts):
 * shared API keys, a burst of simultaneous auto-suspensions against the breaker's hourly limit, a failed key
 * re-enable at expiry, and unbounded allowlist entries.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { Deployment, Harness } from './support/harness';
import { controlTableReads, putHourlyWindows, useDeployment } from './support/workflow';
import { expireSuspensions } from '../../lambdas/escalate/expirer-handler';
import { EscalationStore } from '../../lambdas/escalate/store';
import { applySuspension } from '../../lambdas/escalate/suspension';

jest.setTimeout(180_000);

let h: Harness;
let main: Deployment;
useDeployment('harden', { breakerMaxPerHour: 100 }, (started) => ({ h, dep: main } = started));

const HOUR = 3_600_000;

/** Three hourly windows of traffic for the account, with the given API key ids in it. */
async function seedTraffic(dep: Deployment, accountId: string, keyIds: string[]) {
  await putHourlyWindows(h, dep, accountId, 3, () => ({
    n: 100,
    'm:claude-opus-5': 100,
    ip: new Set(['iph1']),
    ...(keyIds.length ? { key: new Set(keyIds) } : {}),
  }));
}

function input(accountId: string, caseId: string, decision: 'review' | 'suspend') {
  return {
    caseId,
    accountId,
    decision,
    score: decision === 'suspend' ? 0.97 : 0.81,
    reasons: ['synchronized-activity'],
    clusterId: null,
    relatedAccountIds: [],
    flaggedAt: Date.now() - 60_000,
    evidence: {},
  };
}

const { get, account, caseItem, audit, outbox, keyEnabled } = controlTableReads(() => h);

/** An account with a key of its own and traffic, suspended automatically on the main deployment: its key, now disabled. */
async function autoSuspended(keyName: string, accountId: string, caseId: string) {
  const key = h.apigw.createApiKey({ name: keyName, customerId: accountId, enabled: true });
  await seedTraffic(main, accountId, [key.id]);
  const exec = main.start(input(accountId, caseId, 'suspend'));
  expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
  expect(keyEnabled(key.id)).toBe(false);
  return key;
}

describe('one suspension disables keys that other accounts use', () => {
  test("a key shared with an innocent account stays enabled and is recorded as evidence; the account's own key is disabled", async () => {
    const own = h.apigw.createApiKey({ name: 'bad-own', customerId: 'acct-bad', enabled: true });
    const innocentsKey = h.apigw.createApiKey({ name: 'innocent-own', customerId: 'acct-innocent', enabled: true });
    const shared = h.apigw.createApiKey({ name: 'shared-demo-key', enabled: true }); // no customerId: the demo API's shared key
    await seedTraffic(main, 'acct-bad', [own.id, innocentsKey.id, shared.id]);
    await seedTraffic(main, 'acct-innocent', [innocentsKey.id, shared.id]);

    const exec = main.start(input('acct-bad', 'case-shared-key', 'suspend'));
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await account(main, 'acct-bad')).toMatchObject({ status: 'suspended', disabledKeyIds: [own.id] });
    expect(keyEnabled(own.id)).toBe(false);
    expect(keyEnabled(shared.id)).toBe(true);
    expect(keyEnabled(innocentsKey.id)).toBe(true);

    const c = await caseItem(main, 'case-shared-key');
    expect(c!.disabledKeyIds).toEqual([own.id]);
    expect(c!.evidence.apiKeys.sort()).toEqual([own.id, innocentsKey.id, shared.id].sort()); // seen in traffic: evidence
    expect(c!.keysSeenNotDisabled).toEqual(
      expect.arrayContaining([
        { id: shared.id, owner: null },
        { id: innocentsKey.id, owner: 'acct-innocent' },
      ]),
    );
    const suspended = (await audit(main, 'case-shared-key')).find((e) => e.action === 'suspended')!;
    expect(suspended.details.apiKeysDisabled).toEqual([own.id]);
    expect(suspended.details.apiKeysSeenNotDisabled).toEqual(expect.arrayContaining([{ id: shared.id, owner: null }]));

    // Reinstatement re-enables exactly what was disabled.
    await main.operator('local:ops').reinstate('acct-bad', 'test cleanup');
    expect(keyEnabled(own.id)).toBe(true);
  });

  test('a key recorded on the account is disabled; a recorded key that names another customer is not', async () => {
    const recorded = h.apigw.createApiKey({ name: 'rec', enabled: true });
    const foreign = h.apigw.createApiKey({ name: 'foreign', customerId: 'acct-someone-else', enabled: true });
    await h.doc.send(
      new PutCommand({
        TableName: main.controlTable,
        Item: { pk: 'ACCOUNT#acct-rec', sk: 'STATUS', accountId: 'acct-rec', status: 'active', apiKeyIds: [recorded.id, foreign.id] },
      }),
    );
    await seedTraffic(main, 'acct-rec', []);
    const exec = main.start(input('acct-rec', 'case-rec', 'suspend'));
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(keyEnabled(recorded.id)).toBe(false);
    expect(keyEnabled(foreign.id)).toBe(true);
  });
});

describe("the circuit breaker's hourly limit is overrun by a burst", () => {
  test('15 simultaneous auto-suspend cases with a limit of 3: at most 3 applied, the rest go to review, the breaker trips', async () => {
    const burst = await h.deploy('burst', { breakerMaxPerHour: 3 });
    const ids = Array.from({ length: 15 }, (_, i) => `acct-burst-${i}`);
    for (const id of ids) {
      h.apigw.createApiKey({ name: `${id}-k`, customerId: id, enabled: true });
      await seedTraffic(burst, id, []);
    }
    const execs = ids.map((id) => burst.start(input(id, `case-${id}`, 'suspend')));
    // Each execution either ends (suspended) or waits for a reviewer.
    const settled = (e: string) => h.sfn.describeExecution(e).status !== 'RUNNING' || h.sfn.pendingTasks(e).some((t) => t.stateName === 'Review');
    for (const deadline = Date.now() + 60_000; !execs.every(settled);) {
      if (Date.now() > deadline) throw new Error('the burst did not settle');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(execs.map((e) => h.sfn.describeExecution(e).status).filter((s) => s !== 'RUNNING' && s !== 'SUCCEEDED')).toEqual([]);
    const statuses = await Promise.all(ids.map((id) => account(burst, id)));
    const suspended = statuses.filter((s) => s?.status === 'suspended');
    expect(suspended.length).toBeGreaterThan(0);
    expect(suspended.length).toBeLessThanOrEqual(3);
    const cases = await Promise.all(ids.map((id) => caseItem(burst, `case-${id}`)));
    expect(cases.filter((c) => c?.state === 'review').length).toBe(15 - suspended.length);
    // Every account that is not suspended kept its key.
    for (const id of ids.filter((_, i) => statuses[i]?.status !== 'suspended')) {
      expect(h.apigw.apiKeys().find((k) => k.customerId === id)!.enabled).toBe(true);
    }
    const hour = await get(burst, 'BREAKER', `HOUR#${new Date(Math.floor(Date.now() / HOUR) * HOUR).toISOString().slice(0, 13)}`);
    expect(Number(hour?.n ?? 0)).toBe(suspended.length);
    expect(await get(burst, 'BREAKER', 'STATE')).toMatchObject({ tripped: true });
    // Clean up: reject the waiting cases.
    const op = burst.operator('local:oncall');
    for (const c of cases.filter((x) => x?.state === 'review')) await op.decide(c!.caseId, false, 'burst drill');
    await Promise.all(execs.map((e) => h.sfn.waitForExecution(e, 60_000)));
  });

  test('an apply that finds the hour full is refused inside the transaction and trips the breaker', async () => {
    const full = await h.deploy('full', { breakerMaxPerHour: 2 });
    const store = full.store();
    h.apigw.createApiKey({ name: 'late-k', customerId: 'acct-late', enabled: true });
    await seedTraffic(full, 'acct-late', []);
    const exec = full.start(input('acct-late', 'case-late', 'review'));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    // Two auto-suspensions committed since this case was routed (the hour is full).
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR;
    await h.doc.send(
      new PutCommand({ TableName: full.controlTable, Item: { pk: 'BREAKER', sk: `HOUR#${new Date(hourStart).toISOString().slice(0, 13)}`, n: 2 } }),
    );
    const policy = { baseMs: 86_400_000, factor: 2, maxMs: 30 * 86_400_000, forgetAfterMs: 180 * 86_400_000 };
    const r = await applySuspension(store, {
      caseId: 'case-late',
      decidedBy: 'auto',
      decidedAt: new Date().toISOString(),
      policy,
      auto: true,
      breakerLimit: 2,
    });
    expect(r).toMatchObject({ outcome: 'breaker', breakerTripped: true });
    expect((await account(full, 'acct-late'))!.status).toBe('active');
    expect(h.apigw.apiKeys().find((k) => k.customerId === 'acct-late')!.enabled).toBe(true);
    expect(await get(full, 'BREAKER', 'STATE')).toMatchObject({ tripped: true });
    expect((await audit(full, 'case-late')).map((e) => e.action)).toContain('breaker-tripped');
    await full.operator().decide('case-late', false, 'clean up');
    await h.sfn.waitForExecution(exec, 30_000);
  });
});

describe('a failed key re-enable at expiry is never retried', () => {
  test('a throttled UpdateApiKey leaves the account suspended and indexed, with no Account Reinstated; the next run finishes it', async () => {
    const key = await autoSuspended('exp-k', 'acct-expire', 'case-expire');

    const later = Date.now() + 25 * HOUR;
    const base = main.store();
    const store = new EscalationStore({ tableName: main.controlTable, ddb: h.doc, apigw: base.apigw, now: () => later });
    const realSend = store.apigw.send.bind(store.apigw);
    let throttled = 0;
    (store.apigw as unknown as { send: unknown }).send = async (cmd: unknown) => {
      if (cmd instanceof UpdateApiKeyCommand && cmd.input.apiKey === key.id && throttled === 0) {
        throttled++;
        throw Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException' });
      }
      return realSend(cmd as never);
    };
    const first = await expireSuspensions(store);
    expect(first.failed).toBeGreaterThanOrEqual(1);
    expect(throttled).toBe(1);
    expect(keyEnabled(key.id)).toBe(false);
    expect(await account(main, 'acct-expire')).toMatchObject({ status: 'suspended', gsi1pk: 'ACCOUNTS#suspended' });
    expect((await outbox(main, 'acct-expire')).map((e) => e.detailType)).not.toContain('Account Reinstated');

    const second = await expireSuspensions(store);
    expect(second.expired).toBeGreaterThanOrEqual(1);
    expect(keyEnabled(key.id)).toBe(true);
    const a = await account(main, 'acct-expire');
    expect(a).toMatchObject({ status: 'active' });
    expect(a!.gsi1pk).toBeUndefined();
    expect((await outbox(main, 'acct-expire')).filter((e) => e.detailType === 'Account Reinstated')).toHaveLength(1);
  });
});

describe('the allowlist accepts an unbounded expiry and unbounded owner and reason strings', () => {
  test('expiry beyond a year, and overlong or control-character owner and reason, are refused with a clear error', async () => {
    const op = main.operator('local:ops');
    const day = 24 * HOUR;
    await expect(op.allowlistAdd('acct-al', 'team', 'partner', Date.now() + 400 * day)).rejects.toThrow(/expiry must be at most 366 days ahead/);
    await expect(op.allowlistAdd('acct-al', 'team', 'partner', 8.64e15)).rejects.toThrow(/at most 366 days/);
    await expect(op.allowlistAdd('acct-al', 'team', 'partner', Number.POSITIVE_INFINITY)).rejects.toThrow(/expiry must be a date/);
    await expect(op.allowlistAdd('acct-al', 'o'.repeat(129), 'partner', Date.now() + day)).rejects.toThrow(
      'allowlist owner must be at most 128 characters, got 129',
    );
    await expect(op.allowlistAdd('acct-al', 'team', 'r'.repeat(1001), Date.now() + day)).rejects.toThrow(
      'allowlist reason must be at most 1000 characters, got 1001',
    );
    await expect(op.allowlistAdd('acct-al', 'team\nfake: line', 'partner', Date.now() + day)).rejects.toThrow(
      /owner must not contain control characters/,
    );
    expect((await op.allowlistList()).map((e) => e.accountId)).not.toContain('acct-al');
    const ok = await op.allowlistAdd('acct-al', 'o'.repeat(128), 'r'.repeat(1000), Date.now() + 365 * day);
    expect(ok.owner).toHaveLength(128);
    await op.allowlistRemove('acct-al', 'test cleanup');
  });
});

describe('the operator policy can rewrite the whole control table: reinstatement moves into a function the operator invokes', () => {
  test('review reinstate invokes the reinstatement function; the operator tool itself writes nothing and touches no API key', async () => {
    const key = await autoSuspended('via-fn-k', 'acct-via-fn', 'case-via-fn');

    const op = main.operator('local:ops-erin');
    const writes: string[] = [];
    const realDdb = op.store.ddb.send.bind(op.store.ddb);
    (op.store.ddb as unknown as { send: unknown }).send = async (cmd: { constructor: { name: string } }) => {
      if (!/^(Get|Query|BatchGet)Command$/.test(cmd.constructor.name)) writes.push(cmd.constructor.name);
      return realDdb(cmd as never);
    };
    (op.store.apigw as unknown as { send: unknown }).send = async (cmd: { constructor: { name: string } }) => {
      writes.push(cmd.constructor.name);
      throw new Error('the operator tool must not call API Gateway');
    };
    const r = await op.reinstate('acct-via-fn', 'appeal granted');
    expect(r).toEqual({ reinstated: true, keys: [key.id], caseId: 'case-via-fn' });
    expect(writes).toEqual([]);
    expect(keyEnabled(key.id)).toBe(true);
    expect(await account(main, 'acct-via-fn')).toMatchObject({ status: 'active', reinstatedBy: 'local:ops-erin' });
    const entry = (await audit(main, 'case-via-fn')).find((e) => e.action === 'reinstated')!;
    expect(entry).toMatchObject({ actor: 'local:ops-erin', reason: 'appeal granted' });
    // Operator errors come back as one clear message.
    await expect(op.reinstate('acct-via-fn', 'again')).rejects.toThrow('account acct-via-fn is not suspended (status active)');
    await expect(op.reinstate('acct-via-fn', 'x')).rejects.toThrow(/reason is required/);
  });
});
