/**
 * The operators' managed policy against what the operator tools really write. The tools' store methods run against
 * DynamoDB Local through a client that records every write (each item of a transaction too); each write becomes the
 * request IAM would authorise (action, partition key, `dynamodb:Attributes`) and is evaluated against the
 * synthesized OperatorPolicy (test/lib/policy-eval.ts). IAM is not emulated locally, so this is where a policy that
 * is too wide, or too narrow for the tools, shows.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { EscalationStore } from '../../../lambdas/escalate/store';
import { auditEntry, keys, PK_PREFIX } from '../../../src/escalate/model';
import { OUTBOX_PK_PREFIX } from '../../../src/notify/ban-event';
import { Decision, evaluate } from '../policy-eval';
import { Deployment, Harness, startHarness } from '../../escalate/support/harness';
import { claimCase, releaseClaim } from '../../../ops/queue-query';
import { recordFeedback } from '../../../lambdas/escalate/feedback';
import type { Operator } from '../../../ops/operator';
import { allowlistAdd, allowlistRemove } from '../../../lambdas/escalate/allowlist';
import { rearmBreaker, tripBreaker } from '../../../lambdas/escalate/breaker';
import { reinstate } from '../../../lambdas/escalate/reinstatement';
import { setShadow } from '../../../lambdas/escalate/shadow';

interface Write {
  action: string;
  pk: string;
  sk: string;
  attributes: string[];
}

const KEYWORDS = new Set([
  'SET',
  'REMOVE',
  'ADD',
  'DELETE',
  'AND',
  'OR',
  'NOT',
  'BETWEEN',
  'IN',
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
  'if_not_exists',
  'list_append',
]);

/** Top-level attribute names an expression touches (`#name` resolved, `:values` and functions skipped). */
function expressionNames(expr: string | undefined, names: Record<string, string> = {}): string[] {
  if (!expr) return [];
  const out: string[] = [];
  for (const m of expr.replace(/:[A-Za-z0-9_]+/g, ' ').matchAll(/#?[A-Za-z_][A-Za-z0-9_]*/g)) {
    const token = m[0];
    if (KEYWORDS.has(token)) continue;
    out.push(token.startsWith('#') ? (names[token] ?? token) : token);
  }
  return out;
}

function toWrite(action: string, input: any): Write {
  const key = input.Key ?? { pk: input.Item?.pk, sk: input.Item?.sk };
  const attributes = new Set<string>([
    'pk',
    'sk',
    ...Object.keys(input.Item ?? {}),
    ...expressionNames(input.UpdateExpression, input.ExpressionAttributeNames),
    ...expressionNames(input.ConditionExpression, input.ExpressionAttributeNames),
  ]);
  return { action, pk: String(key.pk), sk: String(key.sk), attributes: [...attributes].sort() };
}

/** Every write a command makes, as IAM sees it (a transaction is authorised item by item). */
function writesOf(command: { constructor: { name: string }; input: any }): Write[] {
  switch (command.constructor.name) {
    case 'PutCommand':
      return [toWrite('dynamodb:PutItem', command.input)];
    case 'UpdateCommand':
      return [toWrite('dynamodb:UpdateItem', command.input)];
    case 'DeleteCommand':
      return [toWrite('dynamodb:DeleteItem', command.input)];
    case 'TransactWriteCommand':
      return (command.input.TransactItems as any[]).map((t) =>
        t.Put
          ? toWrite('dynamodb:PutItem', t.Put)
          : t.Update
            ? toWrite('dynamodb:UpdateItem', t.Update)
            : t.Delete
              ? toWrite('dynamodb:DeleteItem', t.Delete)
              : toWrite('dynamodb:ConditionCheckItem', t.ConditionCheck),
      );
    default:
      return [];
  }
}

let h: Harness;
let dep: Deployment;
let statements: any[];
let tableResource: string;
const recorded: Write[] = [];

function recordingStore(): EscalationStore {
  const doc = new Proxy(h.doc, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (command: any) => {
        recorded.push(...writesOf(command));
        return target.send(command);
      };
    },
  }) as DynamoDBDocumentClient;
  return new EscalationStore({
    tableName: dep.controlTable,
    featuresTableName: dep.featuresTable,
    ddb: doc,
    apigw: new APIGatewayClient({ region: 'us-east-1', endpoint: h.apigw.endpoint }),
  });
}

const decide = (w: Write): Decision =>
  evaluate(statements, {
    action: w.action,
    resource: (r) => JSON.stringify(r) === tableResource,
    context: { 'dynamodb:LeadingKeys': [w.pk], 'dynamodb:Attributes': w.attributes },
  });

const verdicts = (writes: Write[]) => writes.map((w) => `${w.action} ${w.pk}/${w.sk}: ${decide(w)}`);

beforeAll(async () => {
  h = await startHarness();
  dep = await h.deploy('opspolicy');
  const resources = dep.syn.json.Resources as Record<string, any>;
  const [, policy] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && /OperatorPolicy/.test(id))!;
  statements = policy.Properties.PolicyDocument.Statement;
  const tableId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::DynamoDB::Table' && /^Control/.test(id))!;
  tableResource = JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] });
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  recorded.length = 0;
});

test('the operator tools can still do their work: every write of allowlist, breaker re-arm and shadow mode is allowed', async () => {
  const store = recordingStore();
  await allowlistAdd(store, {
    accountId: 'acct-partner',
    owner: 'partnerships',
    reason: 'eval partner',
    expiresAtMs: Date.now() + 86_400_000,
    actor: 'local:op',
  });
  await allowlistRemove(store, 'acct-partner', 'local:op', 'contract ended');
  await setShadow(store, { global: true, signals: ['model-pivot'] }, 'local:op', 'tuning');
  await tripBreaker(dep.store(), 'test trip', 'case-trip', 'acct-x');
  await rearmBreaker(store, 'local:op', 'investigated');
  expect(recorded.length).toBeGreaterThanOrEqual(8);
  expect(verdicts(recorded).filter((v) => !v.endsWith(': allow'))).toEqual([]);
});

test('the operator policy cannot delete or rewrite audit entries, nor put anything under CASE# but an ops audit entry', async () => {
  const entry = auditEntry({ caseId: 'case-1', accountId: 'acct-1', at: new Date().toISOString(), actor: 'auto', action: 'suspended', reason: 'x' });
  await h.doc.send(new PutCommand({ TableName: dep.controlTable, Item: entry }));
  const attrs = Object.keys(entry).sort();
  const attempts: Write[] = [
    { action: 'dynamodb:DeleteItem', pk: entry.pk, sk: entry.sk, attributes: ['pk', 'sk'] },
    { action: 'dynamodb:UpdateItem', pk: entry.pk, sk: entry.sk, attributes: ['pk', 'sk', 'reason'] },
    { action: 'dynamodb:PutItem', pk: entry.pk, sk: entry.sk, attributes: attrs },
    { action: 'dynamodb:PutItem', pk: keys.case('case-1').pk, sk: 'CASE', attributes: attrs },
    {
      action: 'dynamodb:DeleteItem',
      pk: `${PK_PREFIX.case}${keys.opsAuditCase()}`,
      sk: 'AUDIT#2026-01-01T00:00:00.000Z#000',
      attributes: ['pk', 'sk'],
    },
    { action: 'dynamodb:BatchWriteItem', pk: entry.pk, sk: entry.sk, attributes: ['pk', 'sk'] },
  ];
  expect(verdicts(attempts).filter((v) => v.endsWith(': allow'))).toEqual([]);
  for (const w of attempts.filter((a) => a.action !== 'dynamodb:PutItem' || a.pk.startsWith(PK_PREFIX.case)))
    expect(`${w.action} ${w.pk}: ${decide(w)}`).toBe(`${w.action} ${w.pk}: explicit-deny`);
});

test('the operator policy cannot write OUTBOX# items (the publisher would relay them as real ban events)', () => {
  const pk = `${OUTBOX_PK_PREFIX}forged-event-1`;
  const attempts: Write[] = [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:PartiQLInsert',
  ].map((action) => ({
    action,
    pk,
    sk: 'EVENT',
    // the attributes of an ops write the policy otherwise allows, so only the key decides
    attributes: ['pk', 'sk', 'reason'],
  }));
  expect(verdicts(attempts)).toEqual(attempts.map((w) => `${w.action} ${pk}/EVENT: explicit-deny`));
});

test('the operator policy reaches no score, breaker counter or workflow-only status attribute', () => {
  const attempts: Write[] = [
    { action: 'dynamodb:UpdateItem', pk: keys.breakerHour(Date.now()).pk, sk: keys.breakerHour(Date.now()).sk, attributes: ['pk', 'sk', 'n'] },
    { action: 'dynamodb:UpdateItem', pk: keys.accountScore('acct-1').pk, sk: 'SCORE', attributes: ['pk', 'sk', 'score'] },
    { action: 'dynamodb:PutItem', pk: keys.accountStatus('acct-1').pk, sk: 'STATUS', attributes: ['pk', 'sk', 'status'] },
    { action: 'dynamodb:UpdateItem', pk: keys.accountStatus('acct-1').pk, sk: 'STATUS', attributes: ['pk', 'sk', 'openCaseId'] },
    { action: 'dynamodb:UpdateItem', pk: keys.accountStatus('acct-1').pk, sk: 'STATUS', attributes: ['pk', 'sk', 'offences'] },
    { action: 'dynamodb:PutItem', pk: keys.allow('acct-1').pk, sk: 'ALLOW', attributes: ['pk', 'sk', 'status'] },
  ];
  expect(verdicts(attempts).filter((v) => v.endsWith(': allow'))).toEqual([]);
});

test('the operator policy writes no account status: reinstatement runs in the function the operator invokes', async () => {
  const status = keys.accountStatus('acct-susp');
  const suspendedAt = new Date(Date.now() - 3_600_000).toISOString();
  await h.doc.send(
    new PutCommand({
      TableName: dep.controlTable,
      Item: {
        ...status,
        accountId: 'acct-susp',
        status: 'suspended',
        suspendedAt,
        suspendedUntil: Date.now() + 86_400_000,
        disabledKeyIds: [],
        offences: 1,
      },
    }),
  );
  // What the reinstatement function writes, tried with the operator's own credentials: nothing is allowed.
  await reinstate(recordingStore(), { accountId: 'acct-susp', actor: 'local:op', reason: 'appeal upheld', kind: 'manual' });
  const byKey = (prefix: string) => recorded.filter((w) => w.pk.startsWith(prefix));
  expect(byKey(PK_PREFIX.account).length).toBeGreaterThan(0);
  expect(
    byKey(PK_PREFIX.account)
      .map(decide)
      .filter((v) => v === 'allow'),
  ).toEqual([]);
  expect(byKey(OUTBOX_PK_PREFIX).map(decide)).toEqual(['explicit-deny']);
});

describe('reviewers claim cases; the reinstatement function counts feedback', () => {
  const policyWith = (pred: (r: any) => boolean) => {
    const resources = dep.syn.json.Resources as Record<string, any>;
    return Object.values(resources).find(pred)!.Properties.PolicyDocument.Statement as any[];
  };
  const judge = (stmts: any[]) => (w: Write) =>
    `${w.action} ${w.pk}/${w.sk}: ${evaluate(stmts, { action: w.action, resource: (r) => JSON.stringify(r) === tableResource, context: { 'dynamodb:LeadingKeys': [w.pk], 'dynamodb:Attributes': w.attributes } })}`;

  test('a reviewer can claim and release a case, and write nothing else', async () => {
    const reviewer = policyWith((r) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.Description?.startsWith('distill-guard reviewers'));
    await h.doc.send(
      new PutCommand({
        TableName: dep.controlTable,
        Item: { ...keys.case('case-claim'), caseId: 'case-claim', accountId: 'acct-c', state: 'review' },
      }),
    );
    const op = { store: recordingStore(), identity: async () => 'local:rev' } as unknown as Operator;
    await claimCase(op, 'case-claim');
    await releaseClaim(op, 'case-claim');
    expect(recorded.map((w) => w.action)).toEqual(['dynamodb:PutItem', 'dynamodb:DeleteItem']);
    expect(recorded.map(judge(reviewer)).filter((v) => !v.endsWith(': allow'))).toEqual([]);
    const beyond: Write[] = [
      { action: 'dynamodb:PutItem', pk: keys.claim('case-claim').pk, sk: 'CLAIM', attributes: ['pk', 'sk', 'caseId', 'claimedBy', 'status'] },
      { action: 'dynamodb:UpdateItem', pk: keys.case('case-claim').pk, sk: 'CASE', attributes: ['pk', 'sk', 'claimedBy'] },
      { action: 'dynamodb:PutItem', pk: keys.allow('acct-c').pk, sk: 'ALLOW', attributes: ['pk', 'sk'] },
      { action: 'dynamodb:UpdateItem', pk: 'FEEDBACK#signal#model-pivot', sk: 'COUNTS', attributes: ['pk', 'sk', 'approved'] },
    ];
    expect(beyond.map(judge(reviewer)).filter((v) => v.endsWith(': allow'))).toEqual([]);
  });

  test('the reinstatement function may count feedback (FEEDBACK# items only); operators may not', async () => {
    const reinstateRole = policyWith(
      (r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.PolicyDocument.Statement as any[]).some((s) => s.Sid === 'UpdateAccountAndCase'),
    );
    await h.doc.send(
      new PutCommand({
        TableName: dep.controlTable,
        Item: {
          ...keys.case('case-fb'),
          caseId: 'case-fb',
          accountId: 'acct-fb',
          state: 'closed',
          reasons: ['model-pivot', 'shared-templates'],
          decidedBy: 'local:alice',
        },
      }),
    );
    const r = await recordFeedback(recordingStore(), { caseId: 'case-fb', kind: 'reinstated' });
    expect(r).toMatchObject({ counter: 'reinstatedReviewed', signals: ['model-pivot', 'shared-templates'] });
    expect(recorded.length).toBe(4); // marker, two signals, the combination
    expect(recorded.map(judge(reinstateRole)).filter((v) => !v.endsWith(': allow'))).toEqual([]);
    expect(recorded.map(decide).filter((v) => v === 'allow')).toEqual([]);
  });
});
