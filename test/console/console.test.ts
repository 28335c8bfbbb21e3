/**
 * The review console in real Chromium: a reviewer opens the queue, reads a case (evidence charts, cluster, audit),
 * approves it with a reason; the synthesized workflow (run locally) suspends the account and audits it. Also the
 * console's own guards: no token -> 401, wrong Host -> refused, cross-origin POST -> refused.
 * Saves the screenshot to docs/console.png.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, Browser } from 'playwright-core';
import { Deployment, Harness, startHarness } from '../escalate/support/harness';
import { startConsole, RunningConsole } from '../../console/server';
import type { Operator } from '../../lambdas/escalate/operator';

jest.setTimeout(180_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOUR = 3_600_000;
const hasChromium = fs.existsSync(CHROMIUM);
const maybe = hasChromium ? describe : describe.skip;
if (!hasChromium) console.warn(`chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);

let h: Harness;
let dep: Deployment;
let op: Operator;
let con: RunningConsole;
let browser: Browser;
let exec: string;

async function seed(accountId: string, opts: { keys?: string[]; ips: string[]; tpl: string[]; models: Record<string, number[]>; pcs?: Record<string, number>; hours: number; minutes: number[] }) {
  const base = Math.floor(Date.now() / HOUR) * HOUR - opts.hours * HOUR;
  for (let i = 0; i < opts.hours; i++) {
    const item: Record<string, unknown> = {
      pk: `A#${accountId}`,
      sk: `W#${String(base + i * HOUR).padStart(13, '0')}`,
      n: 0,
      s4: i % 5 === 0 ? 3 : 0,
      s5: 0,
      ip: new Set(opts.ips),
      sn: new Set(opts.ips.map((x) => `${x.slice(0, 6)}/24`)),
      ua: new Set(['python-httpx/0.27.0']),
      ...(opts.keys ? { key: new Set(opts.keys) } : {}),
      tpl: new Set(opts.tpl),
      createdAt: Date.now() - 9 * 24 * HOUR,
      inTok: 40_000,
      outTok: 120_000,
    };
    let n = 0;
    for (const [m, series] of Object.entries(opts.models)) {
      const v = series[i % series.length];
      item[`m:${m}`] = v;
      n += v;
    }
    item.n = n;
    for (const [pc, share] of Object.entries(opts.pcs ?? {})) item[`pc:${pc}`] = Math.round(n * share);
    for (const mm of opts.minutes) item[`mm:${mm}`] = Math.max(1, Math.round(n / opts.minutes.length));
    await h.doc.send(new PutCommand({ TableName: dep.featuresTable, Item: item }));
  }
}

maybe('review console (Chromium)', () => {
  beforeAll(async () => {
    h = await startHarness();
    dep = await h.deploy('console');
    const sync = Array.from({ length: 40 }, (_, i) => i + 10);
    const campaign = { cot_elicitation: 0.62, rewrite: 0.18, coding: 0.12, chat: 0.08 };
    const key = h.apigw.createApiKey({ name: 'acct-7781-key', customerId: 'acct-7781', enabled: true });
    await seed('acct-7781', { keys: [key.id], ips: ['203.0.113.10', '203.0.113.11'], tpl: ['t-8f3a', 't-11c0', 't-77de'], models: { 'claude-opus-5': [40, 80, 160, 320, 410, 420, 430, 440, 380, 450, 470, 460], 'claude-sonnet-5': [60, 40, 30, 20, 20, 10, 10, 10, 10, 10, 10, 10] }, pcs: campaign, hours: 12, minutes: sync });
    await seed('acct-7782', { ips: ['203.0.113.10'], tpl: ['t-8f3a', 't-11c0'], models: { 'claude-opus-5': [300, 320, 330] }, pcs: campaign, hours: 12, minutes: sync });
    await seed('acct-7790', { ips: ['198.51.100.7'], tpl: ['t-8f3a'], models: { 'claude-opus-5': [200, 210] }, pcs: campaign, hours: 12, minutes: sync.slice(0, 30) });
    await seed('acct-7795', { ips: ['192.0.2.55'], tpl: ['t-0000'], models: { 'claude-haiku-5': [20] }, hours: 12, minutes: [3, 17, 44] });
    await seed('acct-1204', { ips: ['192.0.2.99'], tpl: ['t-aaaa'], models: { 'claude-sonnet-5': [90, 110, 60] }, pcs: { coding: 0.7, agentic: 0.3 }, hours: 8, minutes: [1, 2, 3] });

    // An older case first (so the queue shows order), then the one the reviewer works.
    const other = dep.start({ caseId: 'case-1204-a', accountId: 'acct-1204', decision: 'review', score: 0.74, reasons: ['model-pivot'], reasonDetails: [{ signal: 'model-pivot', value: 0.6, baseline: 0.1, text: 'moved to a newly released model within an hour of its release' }], clusterId: null, relatedAccountIds: [], flaggedAt: Date.now() - 3 * HOUR, evidence: {} });
    await h.sfn.waitForPendingTask('Review', other, 30_000);
    exec = dep.start({
      caseId: 'case-7781-a',
      accountId: 'acct-7781',
      decision: 'review',
      score: 0.93,
      reasons: ['synchronized-activity', 'shared-templates', 'cot-elicitation'],
      reasonDetails: [
        { signal: 'synchronized-activity', value: 0.81, baseline: 0.05, text: 'active in the same minutes as 2 other accounts (Jaccard 0.81)' },
        { signal: 'shared-templates', value: 3, baseline: 0, text: '3 prompt templates shared with accounts in cluster c-12' },
        { signal: 'cot-elicitation', value: 0.62, baseline: 0.04, text: '62% of prompts ask for step-by-step reasoning traces' },
      ],
      clusterId: 'c-12',
      relatedAccountIds: ['acct-7782', 'acct-7790', 'acct-7795'],
      flaggedAt: Date.now() - 40 * 60_000,
      evidence: {},
    });
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    op = dep.operator('local:reviewer-alice');
    con = await startConsole({ operator: op });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await con?.close();
    op?.destroy();
    await h?.stop();
  });

  test('a reviewer opens the queue, reads a case, approves it with a reason; the account is suspended and audited', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
    await page.goto(con.loginUrl);
    // the token leaves the address bar immediately
    await page.waitForFunction(() => !(globalThis as unknown as { location: { hash: string } }).location.hash.includes('token'));

    const rows = page.locator('#list .row');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    await expect(rows.nth(0).innerText()).resolves.toContain('acct-1204'); // oldest first
    await expect(page.locator('#whoami').innerText()).resolves.toBe('local:reviewer-alice');

    await page.locator('#list .row[data-case="case-7781-a"]').click();
    await page.locator('#case-title', { hasText: 'acct-7781' }).waitFor();
    // evidence charts rendered from the snapshot
    expect(await page.locator('#chart-activity svg rect').count()).toBeGreaterThanOrEqual(12);
    expect(await page.locator('#chart-models .legend').innerText()).toContain('claude-opus-5');
    expect(await page.locator('#chart-prompts').innerText()).toContain('cot_elicitation');
    const cluster = await page.locator('#chart-cluster').innerText();
    expect(cluster).toContain('acct-7782');
    expect(cluster).toMatch(/shared prompt templates?/);
    expect(await page.locator('#audit').innerText()).toContain('case-opened');

    // a reason is demanded
    await expect(page.locator('#approve').isDisabled()).resolves.toBe(true);
    await page.locator('#reason').fill('Same templates and minute-level synchrony as acct-7782; CoT elicitation at 62%.');
    await expect(page.locator('#approve').isDisabled()).resolves.toBe(false);
    fs.mkdirSync(path.join(__dirname, '..', '..', 'docs'), { recursive: true });
    await page.screenshot({ path: path.join(__dirname, '..', '..', 'docs', 'console.png'), fullPage: false });

    await page.locator('#approve').click();
    await page.locator('#toast', { hasText: 'Approved case-7781-a as arn:aws:iam::000000000000:user/reviewer-alice' }).waitFor();
    const done = await h.sfn.waitForExecution(exec, 30_000);
    expect(done.status).toBe('SUCCEEDED');

    const account = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: 'ACCOUNT#acct-7781', sk: 'STATUS' } }))).Item!;
    expect(account).toMatchObject({ status: 'suspended', suspendedBy: 'arn:aws:iam::000000000000:user/reviewer-alice' });
    expect(h.apigw.apiKeys().find((k) => k.customerId === 'acct-7781')!.enabled).toBe(false);
    const audit = (await h.doc.send(new QueryCommand({ TableName: dep.controlTable, KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)', ExpressionAttributeValues: { ':p': 'CASE#case-7781-a', ':a': 'AUDIT#' } }))).Items!;
    expect(audit.find((a) => a.action === 'review-approved')).toMatchObject({ actor: 'arn:aws:iam::000000000000:user/reviewer-alice', reason: expect.stringContaining('Same templates') });
    expect(audit.find((a) => a.action === 'suspended')).toMatchObject({ actor: 'arn:aws:iam::000000000000:user/reviewer-alice' });

    // the page shows the outcome and the audit trail after a refresh of the case
    await page.locator('#account-status', { hasText: 'suspended' }).waitFor({ timeout: 60_000 });
    await page.locator('#audit', { hasText: 'review-approved' }).waitFor();
    await page.close();
  });

  test('the API refuses requests without the session token, from another Host, or cross-origin', async () => {
    const noToken = await fetch(`${con.url}api/queue`);
    expect(noToken.status).toBe(401);
    const badHost = await new Promise<number>((resolve, reject) => {
      const req = require('http').request({ host: '127.0.0.1', port: con.port, path: '/api/queue', headers: { Host: 'evil.example:80', 'X-Console-Token': con.token } }, (res: { statusCode: number; resume(): void }) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    expect(badHost).toBe(421);
    const crossOrigin = await fetch(`${con.url}api/cases/case-1204-a/approve`, {
      method: 'POST',
      headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      body: JSON.stringify({ reason: 'forged' }),
    });
    expect(crossOrigin.status).toBe(403);
    const noReason = await fetch(`${con.url}api/cases/case-1204-a/reject`, { method: 'POST', headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' }, body: '{}' });
    expect(noReason.status).toBe(400);
    const queue = (await (await fetch(`${con.url}api/queue`, { headers: { 'X-Console-Token': con.token } })).json()) as { review: { caseId: string }[] };
    expect(queue.review.map((c) => c.caseId)).toEqual(['case-1204-a']);
    expect(JSON.stringify(queue)).not.toMatch(/taskToken/i);
  });

  test('accounts with ordinary provider ids: the reinstate endpoint takes any id the account-id rule accepts', async () => {
    const post = (id: string) =>
      fetch(`${con.url}api/accounts/${encodeURIComponent(id)}/reinstate`, { method: 'POST', headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: 'ticket 42' }) });
    // A valid id that has no status record: refused by the store (409), not as a malformed id (400).
    for (const id of ['auth0|abc', 'org/team a+b#1', 'kunde-müller', 'x'.repeat(200)]) {
      const r = await post(id);
      expect([id, r.status, ((await r.json()) as { error: string }).error]).toEqual([id, 409, expect.stringMatching(/has no status record/)]);
    }
    for (const id of ['a\u0000b', ' lead', 'z'.repeat(257)]) expect((await post(id)).status).toBe(400);
    const broken = await fetch(`${con.url}api/accounts/%E0%A4%A/reinstate`, { method: 'POST', headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' }, body: '{"reason":"x y z"}' });
    expect(broken.status).toBe(400);
  });
});
