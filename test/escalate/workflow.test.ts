/**
 * The synthesized escalation state machine, run locally (local Step Functions endpoint + DynamoDB Local + fauxqs +
 * the local API-keys endpoint): approve, reject, timeout, the breaker tripping, an allowlisted account, a
 * duplicate start, shadow mode, reinstatement and the scheduled expiry.
 */
import { Duration } from 'aws-cdk-lib';
import { Deployment, Harness } from './support/harness';
import { controlTableReads, putHourlyWindows, scorerInput, useDeployment } from './support/workflow';
import { expireSuspensions } from '../../lambdas/escalate/expirer-handler';
import { applySuspension, compensateSuspension } from '../../lambdas/escalate/suspension';

jest.setTimeout(180_000);

let h: Harness;
let main: Deployment;
useDeployment('main', { breakerMaxPerHour: 100 }, (started) => ({ h, dep: main } = started));

const HOUR = 3_600_000;
/** The local principal `local:alice` signs as (test/escalate/support/harness.ts). */
const ALICE = 'arn:aws:iam::000000000000:user/alice';

async function seedAccount(dep: Deployment, accountId: string, opts: { keys?: number } = {}) {
  const keys = [];
  for (let i = 0; i < (opts.keys ?? 1); i++) keys.push(h.apigw.createApiKey({ name: `${accountId}-k${i}`, customerId: accountId, enabled: true }));
  const keyIds = keys.map((k) => k.id);
  await putHourlyWindows(h, dep, accountId, 3, (i) => ({
    n: 100 + i * 50,
    s4: 2,
    s5: 0,
    'm:claude-sonnet-5': 80,
    'm:claude-opus-5': 20 + i * 50,
    'pc:cot_elicitation': 60,
    'pc:coding': 10,
    'mm:1': 10,
    ip: new Set(['iph1', 'iph2']),
    sn: new Set(['10.0.0.0/24']),
    ua: new Set(['python-httpx/0.27']),
    key: new Set(keyIds),
    tpl: new Set(['t-1', 't-2']),
  }));
  return keys;
}

function input(accountId: string, caseId: string, decision: 'review' | 'suspend', extra: Record<string, unknown> = {}) {
  return scorerInput(
    accountId,
    caseId,
    {
      decision,
      score: decision === 'suspend' ? 0.97 : 0.81,
      reasons: ['synchronized-activity', 'shared-templates'],
      reasonDetails: [{ signal: 'synchronized-activity', value: 0.9, baseline: 0.1, text: 'active in the same minutes as 3 accounts' }],
      clusterId: 'c-1',
    },
    extra,
  );
}

const { caseItem, account, audit, outbox, keyEnabled } = controlTableReads(() => h);

describe('escalation workflow (synthesized ASL, run locally)', () => {
  test('review -> approve: account suspended, API keys disabled, audited, Account Suspended in the outbox; reinstate undoes it', async () => {
    const keys = await seedAccount(main, 'acct-approve', { keys: 2 });
    const exec = main.start(input('acct-approve', 'case-approve', 'review'));
    const task = await h.sfn.waitForPendingTask('Review', exec, 30_000);

    const op = main.operator('local:alice');
    const queue = await op.queue();
    expect(queue.map((q) => q.caseId)).toContain('case-approve');
    const shown = await op.show('case-approve');
    expect(shown.case.evidence.timeline).toHaveLength(3);
    expect(shown.case.evidence.totals.models['claude-opus-5']).toBe(20 + 70 + 120);
    expect(shown.case.evidence.apiKeys.sort()).toEqual(keys.map((k) => k.id).sort());

    await expect(op.decide('case-approve', true, '')).rejects.toThrow(/reason is required/);
    const d = await op.decide('case-approve', true, 'same templates as the campaign cluster');
    expect(d.reviewer).toBe(ALICE); // the signed caller, from the request context
    const done = await h.sfn.waitForExecution(exec, 30_000);
    expect(done.status).toBe('SUCCEEDED');

    const a = await account(main, 'acct-approve');
    expect(a).toMatchObject({ status: 'suspended', offences: 1, lastCaseId: 'case-approve', suspendedBy: ALICE });
    expect(a!.openCaseId).toBeUndefined();
    expect(a!.suspendedUntil - Date.now()).toBeGreaterThan(23 * HOUR);
    expect(a!.suspendedUntil - Date.now()).toBeLessThanOrEqual(24 * HOUR);
    for (const k of keys) expect(keyEnabled(k.id)).toBe(false);
    const c = await caseItem(main, 'case-approve');
    expect(c).toMatchObject({ state: 'closed', outcome: 'suspended', decidedBy: ALICE });
    const actions = (await audit(main, 'case-approve')).map((e) => `${e.action}:${e.actor}`);
    expect(actions).toEqual(expect.arrayContaining(['case-opened:auto', 'review-requested:auto', `review-approved:${ALICE}`, `suspended:${ALICE}`]));
    const events = await outbox(main, 'acct-approve');
    expect(events.map((e) => e.detailType).sort()).toEqual(['Account Flagged', 'Account Suspended']);
    const suspended = events.find((e) => e.detailType === 'Account Suspended')!.detail;
    expect(suspended).toMatchObject({ caseId: 'case-approve', decidedBy: ALICE, offence: 1, schemaVersion: '1.1' });
    // the task token never reaches the case, the audit trail or the events
    const everything = JSON.stringify([c, await audit(main, 'case-approve'), events]);
    expect(everything).not.toMatch(/taskToken/i);
    expect(everything).not.toContain(task.taskToken);
    expect(c.reviewTask).toBeUndefined(); // the encrypted token is dropped once the decision is recorded

    // Undo: reinstate.
    await expect(op.reinstate('acct-approve', '')).rejects.toThrow(/reason is required/);
    const r = await op.reinstate('acct-approve', 'customer appeal: research lab, verified');
    expect(r.reinstated).toBe(true);
    for (const k of keys) expect(keyEnabled(k.id)).toBe(true);
    expect(await account(main, 'acct-approve')).toMatchObject({ status: 'active', lastSuspensionEnd: expect.any(Number) });
    expect((await outbox(main, 'acct-approve')).map((e) => e.detailType)).toContain('Account Reinstated');
    expect((await audit(main, 'case-approve')).map((e) => e.action)).toContain('reinstated');
    await expect(op.reinstate('acct-approve', 'again please')).rejects.toThrow(/not suspended/);
  });

  test('review -> reject: nothing applied, case closed as rejected, account released', async () => {
    const [key] = await seedAccount(main, 'acct-reject');
    const exec = main.start(input('acct-reject', 'case-reject', 'review'));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    await main.operator('local:bob').decide('case-reject', false, 'organic burst after a product launch');
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await caseItem(main, 'case-reject')).toMatchObject({
      state: 'closed',
      outcome: 'rejected',
      decidedBy: 'arn:aws:iam::000000000000:user/bob',
    });
    const a = await account(main, 'acct-reject');
    expect(a!.status).toBe('active');
    expect(a!.openCaseId).toBeUndefined();
    expect(keyEnabled(key.id)).toBe(true);
    expect((await audit(main, 'case-reject')).map((e) => e.action)).toEqual(expect.arrayContaining(['review-rejected', 'dismissed']));
    expect((await outbox(main, 'acct-reject')).map((e) => e.detailType)).toEqual(['Account Flagged']);
  });

  test('duplicate start: a second case for an account with an open case ends cleanly; the same name is idempotent', async () => {
    await seedAccount(main, 'acct-dup');
    const firstInput = input('acct-dup', 'case-dup-1', 'review');
    const first = main.start(firstInput);
    expect(main.start(firstInput)).toBe(first); // same execution name: same execution
    await h.sfn.waitForPendingTask('Review', first, 30_000);
    const second = main.start(input('acct-dup', 'case-dup-2', 'suspend'));
    const done = await h.sfn.waitForExecution(second, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).record).toEqual({ duplicate: true, openCaseId: 'case-dup-1' });
    expect(await caseItem(main, 'case-dup-2').catch(() => undefined)).toBeUndefined();
    expect((await account(main, 'acct-dup'))!).toMatchObject({ status: 'active', openCaseId: 'case-dup-1' });
    expect((await audit(main, 'case-dup-1')).map((e) => e.action)).toContain('case-duplicate');
    await main.operator().decide('case-dup-1', false, 'clean up the test case');
    await h.sfn.waitForExecution(first, 30_000);
  });

  test('allowlisted account: a suspend decision is dismissed, nothing applied', async () => {
    const [key] = await seedAccount(main, 'acct-allow');
    const op = main.operator('local:carol');
    await op.allowlistAdd('acct-allow', 'team-research', 'red-team partner, contract R-17', Date.now() + 7 * 24 * HOUR);
    expect((await op.allowlistList()).map((e) => e.accountId)).toContain('acct-allow');
    const exec = main.start(input('acct-allow', 'case-allow', 'suspend'));
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await caseItem(main, 'case-allow')).toMatchObject({ state: 'closed', outcome: 'allowlisted' });
    expect((await account(main, 'acct-allow'))!.status).toBe('active');
    expect(keyEnabled(key.id)).toBe(true);
    await op.allowlistRemove('acct-allow', 'contract ended');
    expect((await op.allowlistList()).map((e) => e.accountId)).not.toContain('acct-allow');
    const opsAudit = (await audit(main, 'OPS')).filter((e) => e.accountId === 'acct-allow').map((e) => `${e.action}:${e.actor}`);
    expect(opsAudit).toEqual(['allowlist-added:local:carol', 'allowlist-removed:local:carol']);
  });

  test('allowlist is re-checked right before the suspension is applied (keys untouched)', async () => {
    const [key] = await seedAccount(main, 'acct-late-allow');
    const exec = main.start(input('acct-late-allow', 'case-late-allow', 'review'));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    // Allowlisted while the case waits for review; then a reviewer approves.
    await main.operator('local:dan').allowlistAdd('acct-late-allow', 'sales', 'enterprise trial', Date.now() + 24 * HOUR);
    await main.operator('local:erin').decide('case-late-allow', true, 'looks like the cluster');
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await caseItem(main, 'case-late-allow')).toMatchObject({ state: 'closed', outcome: 'allowlisted' });
    expect((await account(main, 'acct-late-allow'))!.status).toBe('active');
    expect(keyEnabled(key.id)).toBe(true);
  });

  test('shadow mode: the decision is computed and recorded, never applied', async () => {
    const [key] = await seedAccount(main, 'acct-shadow');
    const op = main.operator('local:frank');
    await op.setShadow({ global: true, signals: [] }, 'trial of the new detector');
    try {
      const exec = main.start(input('acct-shadow', 'case-shadow', 'suspend'));
      expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    } finally {
      await op.setShadow({ global: false, signals: [] }, 'trial over');
    }
    expect(await caseItem(main, 'case-shadow')).toMatchObject({ state: 'closed', outcome: 'shadow', shadow: true, shadowRoute: 'suspend' });
    expect((await account(main, 'acct-shadow'))!.status).toBe('active');
    expect(keyEnabled(key.id)).toBe(true);
    expect((await audit(main, 'case-shadow')).map((e) => e.action)).toContain('shadow-recorded');
  });

  test('auto-suspend, then the scheduled expirer reinstates when the suspension ends', async () => {
    const [key] = await seedAccount(main, 'acct-auto');
    const exec = main.start(input('acct-auto', 'case-auto', 'suspend'));
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await account(main, 'acct-auto')).toMatchObject({ status: 'suspended', suspendedBy: 'auto' });
    expect(keyEnabled(key.id)).toBe(false);
    const store = main.store();
    expect(await expireSuspensions(store)).toEqual({ expired: 0, failed: 0 });
    const later = Date.now() + 25 * HOUR;
    const future = new (store.constructor as typeof import('../../lambdas/escalate/store').EscalationStore)({
      tableName: main.controlTable,
      ddb: h.doc,
      apigw: store.apigw,
      now: () => later,
    });
    const r = await expireSuspensions(future);
    expect(r.expired).toBeGreaterThanOrEqual(1);
    expect(await account(main, 'acct-auto')).toMatchObject({ status: 'active' });
    expect(keyEnabled(key.id)).toBe(true);
    const reinstated = (await outbox(main, 'acct-auto')).find((e) => e.detailType === 'Account Reinstated')!;
    expect(reinstated.detail).toMatchObject({ decidedBy: 'system:expirer', reinstatedReason: 'suspension-expired' });
  });
});

describe('no half-applied suspension', () => {
  test('a suspension whose transaction fails is compensated: the disabled keys come back', async () => {
    const keys = await seedAccount(main, 'acct-comp', { keys: 2 });
    const exec = main.start(input('acct-comp', 'case-comp', 'review'));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    const store = main.store();
    const realSend = store.ddb.send.bind(store.ddb);
    // The decision's transaction fails (as a throttled/conflicting TransactWriteItems would, after retries).
    (store.ddb as unknown as { send: unknown }).send = async (cmd: { constructor: { name: string } }) => {
      if (cmd.constructor.name === 'TransactWriteCommand')
        throw Object.assign(new Error('injected: transaction conflict'), { name: 'TransactionConflictException' });
      return realSend(cmd as never);
    };
    const policy = { baseMs: 86_400_000, factor: 2, maxMs: 30 * 86_400_000, forgetAfterMs: 180 * 86_400_000 };
    await expect(
      applySuspension(store, { caseId: 'case-comp', decidedBy: 'local:x', decidedAt: new Date().toISOString(), policy, auto: false }),
    ).rejects.toThrow(/injected/);
    for (const k of keys) expect(keyEnabled(k.id)).toBe(false); // step 1 happened, the decision did not
    expect((await account(main, 'acct-comp'))!.status).toBe('active');
    (store.ddb as unknown as { send: unknown }).send = realSend;
    // What the state machine's Catch -> CompensateSuspension does:
    expect(await compensateSuspension(store, 'case-comp', 'TransactionConflictException')).toEqual({ reenabled: keys.map((k) => k.id).sort() });
    for (const k of keys) expect(keyEnabled(k.id)).toBe(true);
    expect((await audit(main, 'case-comp')).map((e) => e.action)).toContain('suspension-compensated');
    expect((await outbox(main, 'acct-comp')).map((e) => e.detailType)).toEqual(['Account Flagged']);
    await main.operator().decide('case-comp', false, 'clean up the test case');
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
  });
});

describe('review deadline', () => {
  let short: Deployment;
  beforeAll(async () => {
    short = await h.deploy('short', { reviewTimeout: Duration.seconds(2) });
  });

  test('timeout: no suspension, the case is marked overdue and the account released', async () => {
    const [key] = await seedAccount(short, 'acct-timeout');
    const exec = short.start(input('acct-timeout', 'case-timeout', 'review'));
    const done = await h.sfn.waitForExecution(exec, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(await caseItem(short, 'case-timeout')).toMatchObject({
      state: 'overdue',
      outcome: 'overdue',
      gsi1pk: 'CASES#overdue',
      decidedBy: 'timeout',
    });
    expect((await audit(short, 'case-timeout')).find((e) => e.action === 'review-overdue')).toMatchObject({
      actor: 'timeout',
      reason: expect.stringMatching(/^timeout \(deadline\)/),
    });
    const a = await account(short, 'acct-timeout');
    expect(a!.status).toBe('active');
    expect(a!.openCaseId).toBeUndefined();
    expect(keyEnabled(key.id)).toBe(true);
    expect((await audit(short, 'case-timeout')).map((e) => e.action)).toContain('review-overdue');
    expect((await short.operator().queue(['overdue'])).map((q) => q.caseId)).toContain('case-timeout');
    await expect(short.operator().decide('case-timeout', true, 'too late now')).rejects.toThrow(/not waiting for review/);
  });
});

describe('circuit breaker', () => {
  let tight: Deployment;
  beforeAll(async () => {
    tight = await h.deploy('tight', { breakerMaxPerHour: 1 });
  });

  test('trips after the limit: the next auto-suspend goes to review; an operator re-arms it', async () => {
    await seedAccount(tight, 'acct-b1');
    await seedAccount(tight, 'acct-b2');
    const e1 = tight.start(input('acct-b1', 'case-b1', 'suspend'));
    expect((await h.sfn.waitForExecution(e1, 30_000)).status).toBe('SUCCEEDED');
    expect((await account(tight, 'acct-b1'))!.status).toBe('suspended');

    const e2 = tight.start(input('acct-b2', 'case-b2', 'suspend'));
    await h.sfn.waitForPendingTask('Review', e2, 30_000);
    expect(await caseItem(tight, 'case-b2')).toMatchObject({ state: 'review', route: 'review' });
    expect((await account(tight, 'acct-b2'))!.status).toBe('active');
    const op = tight.operator('local:oncall');
    const status = await op.breakerStatus();
    expect(status.tripped).toBe(true);
    expect(status.trippedReason).toMatch(/limit 1/);
    expect((await audit(tight, 'case-b2')).map((e) => e.action)).toContain('breaker-tripped');

    await op.decide('case-b2', false, 'breaker drill');
    await h.sfn.waitForExecution(e2, 30_000);
    const rearmed = await op.breakerRearm('checked the two cases, detector is fine');
    expect(rearmed).toMatchObject({ tripped: false, rearmedBy: 'local:oncall' });
    expect((await audit(tight, 'OPS')).map((e) => e.action)).toContain('breaker-rearmed');
  });
});
