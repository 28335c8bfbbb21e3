/**
 * The `restrict` step on the synthesized state machine, run locally (DynamoDB Local, fauxqs, the local Step
 * Functions and API Gateway endpoints, the real handlers): restrict plus review moves the account's own keys to
 * the restricted usage plan and sets the step-up flag; rejection, expiry and reinstatement move them back; the
 * allowlist, the breaker and shadow mode hold it exactly as they hold a suspension; operators restrict by hand.
 */
import { APIGatewayClient, CreateUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { Deployment, Harness, startHarness } from './support/harness';
import { controlTableReads, scorerInput } from './support/workflow';
import { expireSuspensions } from '../../lambdas/escalate/expirer-handler';
import { EscalationStore } from '../../lambdas/escalate/store';
import { validateBanEventDetail } from '../../src/notify/schemas';
import { LOCAL_CREDENTIALS } from '../../local/services/clients';
import { breakerCounts, rearmBreaker, tripBreaker } from '../../lambdas/escalate/breaker';

jest.setTimeout(180_000);

let h: Harness;
let dep: Deployment;
let plans: { standard: string; restricted: string };
const HOUR = 3_600_000;

beforeAll(async () => {
  h = await startHarness();
  const apigw = new APIGatewayClient({ region: 'us-east-1', endpoint: h.apigw.endpoint, credentials: { ...LOCAL_CREDENTIALS } });
  const std = await apigw.send(new CreateUsagePlanCommand({ name: 'standard', throttle: { rateLimit: 100, burstLimit: 200 } }));
  const res = await apigw.send(new CreateUsagePlanCommand({ name: 'restricted', throttle: { rateLimit: 1, burstLimit: 2 } }));
  plans = { standard: std.id!, restricted: res.id! };
  dep = await h.deploy('restrict', { breakerMaxPerHour: 100, standardUsagePlanId: plans.standard, restrictedUsagePlanId: plans.restricted });
});
afterAll(async () => {
  await h?.stop();
});

/** An account with one key of its own on the standard plan (and one shared key it does not own). */
async function seed(accountId: string) {
  const own = h.apigw.createApiKey({ name: `${accountId}-k`, customerId: accountId, enabled: true });
  const other = h.apigw.createApiKey({ name: `${accountId}-shared`, customerId: 'someone-else', enabled: true });
  const apigw = new APIGatewayClient({ region: 'us-east-1', endpoint: h.apigw.endpoint, credentials: { ...LOCAL_CREDENTIALS } });
  const { CreateUsagePlanKeyCommand } = await import('@aws-sdk/client-api-gateway');
  for (const k of [own, other]) await apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: plans.standard, keyId: k.id, keyType: 'API_KEY' }));
  return { own, other };
}

function input(accountId: string, caseId: string, extra: Record<string, unknown> = {}) {
  return scorerInput(
    accountId,
    caseId,
    {
      decision: 'review',
      recommendedAction: 'restrict',
      score: 0.84,
      reasons: ['shared-templates', 'cot-elicitation'],
      reasonDetails: [{ signal: 'shared-templates', value: 0.9, baseline: 0.1, text: 'same prompt templates as 3 accounts' }],
      clusterId: 'c-7',
    },
    extra,
  );
}

const planOf = (keyId: string) => h.apigw.planOfKey(keyId)?.id;
const reads = controlTableReads(() => h);
const account = (accountId: string) => reads.account(dep, accountId);
const caseItem = (caseId: string) => reads.caseItem(dep, caseId);
const audit = (caseId: string) => reads.audit(dep, caseId);
const outbox = (accountId: string) => reads.outbox(dep, accountId);
function storeAt(nowMs: number) {
  const s = dep.store();
  return new EscalationStore({
    tableName: dep.controlTable,
    featuresTableName: dep.featuresTable,
    ddb: s.ddb,
    apigw: s.apigw,
    usagePlans: plans,
    now: () => nowMs,
  });
}

describe('restrict plus review (synthesized ASL, run locally)', () => {
  test('restrict plus review: own keys to the restricted plan, step-up set, Account Restricted (valid), case waits for review; rejection lifts it', async () => {
    const { own, other } = await seed('acct-r1');
    const before = await breakerCounts(dep.store());
    const exec = dep.start(input('acct-r1', 'case-r1'));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);

    expect(planOf(own.id)).toBe(plans.restricted);
    expect(planOf(other.id)).toBe(plans.standard); // a key it does not own is never moved
    const a = await account('acct-r1');
    expect(a).toMatchObject({ status: 'restricted', stepUp: true, restrictedKeyIds: [own.id], restrictionCaseId: 'case-r1', openCaseId: 'case-r1' });
    expect(a!.restrictedUntil - Date.now()).toBeGreaterThan(23 * HOUR);
    expect(await caseItem('case-r1')).toMatchObject({ state: 'review', route: 'restrict', recommendedAction: 'restrict' });
    const restricted = (await outbox('acct-r1')).find((e) => e.detailType === 'Account Restricted')!;
    expect(restricted.detail).toMatchObject({ decidedBy: 'auto', stepUp: true, apiKeysRestricted: 1, schemaVersion: '1.1' });
    expect(validateBanEventDetail('Account Restricted', restricted.detail)).toEqual({ valid: true, errors: [] });
    // the breaker counts automatic restrictions like automatic suspensions
    const after = await breakerCounts(dep.store());
    expect(after.current + after.previous).toBe(before.current + before.previous + 1);

    await dep.operator('local:alice').decide('case-r1', false, 'organic: a class of students sharing a notebook');
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(planOf(own.id)).toBe(plans.standard);
    const lifted = await account('acct-r1');
    expect(lifted).toMatchObject({ status: 'active' });
    expect(lifted!.stepUp).toBeUndefined();
    expect(await caseItem('case-r1')).toMatchObject({ state: 'closed', outcome: 'rejected' });
    const reinstated = (await outbox('acct-r1')).find((e) => e.detailType === 'Account Reinstated')!;
    expect(reinstated.detail).toMatchObject({ reinstatedReason: 'restriction-rejected', decidedBy: 'arn:aws:iam::000000000000:user/alice' });
    expect((await audit('case-r1')).map((e) => e.action)).toEqual(
      expect.arrayContaining(['case-opened', 'review-requested', 'restricted', 'review-rejected', 'restriction-lifted', 'dismissed']),
    );
  });

  test('approval after restrict plus review suspends (the restriction gives way); reinstatement moves the keys back too', async () => {
    const { own } = await seed('acct-r2');
    const exec = dep.start(input('acct-r2', 'case-r2'));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    await dep.operator('local:bob').decide('case-r2', true, 'same templates and sync as cluster c-7');
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await account('acct-r2')).toMatchObject({ status: 'suspended' });
    expect(h.apigw.apiKeys().find((k) => k.id === own.id)!.enabled).toBe(false);
    await dep.operator('local:bob').reinstate('acct-r2', 'appeal granted');
    const a = await account('acct-r2');
    expect(a).toMatchObject({ status: 'active' });
    expect(a!.stepUp).toBeUndefined();
    expect(a!.restrictedKeyIds).toBeUndefined();
    expect(planOf(own.id)).toBe(plans.standard);
    expect(h.apigw.apiKeys().find((k) => k.id === own.id)!.enabled).toBe(true);
  });

  test('a reviewer may choose restrict: the case closes as restricted', async () => {
    const { own } = await seed('acct-r3');
    const exec = dep.start(input('acct-r3', 'case-r3', { recommendedAction: undefined, decision: 'review' }));
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    expect(planOf(own.id)).toBe(plans.standard); // plain review: nothing applied before the decision
    await dep.operator('local:carol').decide('case-r3', true, 'coordinated, but an established customer', { action: 'restrict' });
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    const carol = 'arn:aws:iam::000000000000:user/carol';
    expect(await caseItem('case-r3')).toMatchObject({ state: 'closed', outcome: 'restricted', decidedBy: carol });
    const a = await account('acct-r3');
    expect(a).toMatchObject({ status: 'restricted', stepUp: true, restrictedBy: carol });
    expect(a!.openCaseId).toBeUndefined();
    expect(planOf(own.id)).toBe(plans.restricted);
  });

  test('expiry reverses it: the expirer moves the keys back, clears step-up and publishes Account Reinstated', async () => {
    const { own } = await seed('acct-r4');
    const r = await dep.operator('local:ops').restrict('acct-r4', 'burst of CoT prompts from a new account', 2);
    expect(r.outcome).toBe('restricted');
    expect(planOf(own.id)).toBe(plans.restricted);
    expect((await expireSuspensions(storeAt(Date.now() + HOUR))).expired).toBe(0); // not yet
    expect(planOf(own.id)).toBe(plans.restricted);
    await expireSuspensions(storeAt(Date.now() + 3 * HOUR));
    expect(planOf(own.id)).toBe(plans.standard);
    const a = await account('acct-r4');
    expect(a).toMatchObject({ status: 'active' });
    expect(a!.stepUp).toBeUndefined();
    const ev = (await outbox('acct-r4')).filter((e) => e.detailType === 'Account Reinstated');
    expect(ev.map((e) => e.detail.reinstatedReason)).toEqual(['restriction-expired']);
  });

  test('reinstate reverses a restriction by hand', async () => {
    const { own } = await seed('acct-r5');
    await dep.operator('local:ops').restrict('acct-r5', 'manual throttle while we call the customer');
    expect(await account('acct-r5')).toMatchObject({ status: 'restricted', stepUp: true, restrictedBy: 'local:ops' });
    const r = await dep.operator('local:ops').reinstate('acct-r5', 'customer verified');
    expect(r).toMatchObject({ reinstated: true, keys: [own.id] });
    expect(planOf(own.id)).toBe(plans.standard);
    expect(await account('acct-r5')).toMatchObject({ status: 'active' });
    await expect(dep.operator('local:ops').reinstate('acct-r5', 'again please')).rejects.toThrow(/not suspended/);
  });

  test('an allowlisted account is not restricted, by the workflow or by hand', async () => {
    const { own } = await seed('acct-r6');
    const op = dep.operator('local:dan');
    await op.allowlistAdd('acct-r6', 'team-research', 'red-team partner', Date.now() + 24 * HOUR);
    const exec = dep.start(input('acct-r6', 'case-r6'));
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await caseItem('case-r6')).toMatchObject({ state: 'closed', outcome: 'allowlisted' });
    expect((await op.restrict('acct-r6', 'trying by hand')).outcome).toBe('allowlisted');
    expect(planOf(own.id)).toBe(plans.standard);
    expect((await account('acct-r6'))?.status ?? 'active').toBe('active');
    expect((await outbox('acct-r6')).map((e) => e.detailType)).not.toContain('Account Restricted');
  });

  test('shadow mode records the restriction but does not throttle', async () => {
    const { own } = await seed('acct-r7');
    const op = dep.operator('local:erin');
    await op.setShadow({ global: true, signals: [] }, 'trial of restrict');
    try {
      const exec = dep.start(input('acct-r7', 'case-r7'));
      expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    } finally {
      await op.setShadow({ global: false, signals: [] }, 'trial over');
    }
    expect(await caseItem('case-r7')).toMatchObject({ state: 'closed', outcome: 'shadow', shadow: true, shadowRoute: 'restrict' });
    expect(planOf(own.id)).toBe(plans.standard);
    expect((await account('acct-r7'))?.stepUp).toBeUndefined();
  });

  test('a tripped breaker holds an automatic restriction back: the case goes to review unrestricted', async () => {
    const { own } = await seed('acct-r8');
    const s = dep.store();
    await tripBreaker(s, 'test: tripped by hand', 'OPS', '-');
    try {
      const exec = dep.start(input('acct-r8', 'case-r8'));
      await h.sfn.waitForPendingTask('Review', exec, 30_000);
      expect(await caseItem('case-r8')).toMatchObject({ state: 'review', route: 'review' });
      expect(planOf(own.id)).toBe(plans.standard);
      await dep.operator('local:frank').decide('case-r8', false, 'not now');
      await h.sfn.waitForExecution(exec, 30_000);
    } finally {
      await rearmBreaker(s, 'local:test', 'test over');
    }
  });
});
