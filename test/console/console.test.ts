/**
 * The review console in real Chromium: a reviewer opens the queue, reads a case (evidence charts, cluster, audit),
 * approves it with a reason; the synthesized workflow (run locally) suspends the account and audits it. Also the
 * console's own guards: no token -> 401, wrong Host -> refused, cross-origin POST -> refused. The approval is made
 * with the keyboard only (j/k, a, the reason, Enter); the console claims the case and moves on to the next one.
 * Then the audit view (filters, CSV export), the signals view and the controls. docs/console.png comes from
 * `npm start -- --screenshot docs/console.png`, not from this test.
 */
import * as fs from 'fs';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, Browser } from 'playwright-core';
import { Deployment, Harness, startHarness } from '../escalate/support/harness';
import { startConsole, RunningConsole } from '../../console/server';
import type { Operator } from '../../ops/operator';
import { queueView } from '../../ops/queue-query';
import * as http from 'http';

jest.setTimeout(180_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOUR = 3_600_000;
const hasChromium = fs.existsSync(CHROMIUM);
// A missing browser fails the run; skipping the suite has to be asked for (and the summary says so, see
// test/skip-reporter.js).
const skipBrowser = process.env.DISTILL_GUARD_SKIP_BROWSER === '1';
const maybe = hasChromium && !skipBrowser ? describe : describe.skip;
if (!hasChromium && !skipBrowser) {
  test('chromium is installed (the console is tested in a real browser)', () => {
    throw new Error(
      `chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium (or set CHROMIUM_PATH), or skip the browser suite with DISTILL_GUARD_SKIP_BROWSER=1`,
    );
  });
}

let h: Harness;
let dep: Deployment;
let op: Operator;
let con: RunningConsole;
let browser: Browser;
let exec: string;

async function seed(
  accountId: string,
  opts: {
    keys?: string[];
    ips: string[];
    tpl: string[];
    models: Record<string, number[]>;
    pcs?: Record<string, number>;
    hours: number;
    minutes: number[];
  },
) {
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
    await seed('acct-7781', {
      keys: [key.id],
      ips: ['203.0.113.10', '203.0.113.11'],
      tpl: ['t-8f3a', 't-11c0', 't-77de'],
      models: {
        'claude-opus-5': [40, 80, 160, 320, 410, 420, 430, 440, 380, 450, 470, 460],
        'claude-sonnet-5': [60, 40, 30, 20, 20, 10, 10, 10, 10, 10, 10, 10],
      },
      pcs: campaign,
      hours: 12,
      minutes: sync,
    });
    await seed('acct-7782', {
      ips: ['203.0.113.10'],
      tpl: ['t-8f3a', 't-11c0'],
      models: { 'claude-opus-5': [300, 320, 330] },
      pcs: campaign,
      hours: 12,
      minutes: sync,
    });
    await seed('acct-7790', {
      ips: ['198.51.100.7'],
      tpl: ['t-8f3a'],
      models: { 'claude-opus-5': [200, 210] },
      pcs: campaign,
      hours: 12,
      minutes: sync.slice(0, 30),
    });
    await seed('acct-7795', { ips: ['192.0.2.55'], tpl: ['t-0000'], models: { 'claude-haiku-5': [20] }, hours: 12, minutes: [3, 17, 44] });
    await seed('acct-1204', {
      ips: ['192.0.2.99'],
      tpl: ['t-aaaa'],
      models: { 'claude-sonnet-5': [90, 110, 60] },
      pcs: { coding: 0.7, agentic: 0.3 },
      hours: 8,
      minutes: [1, 2, 3],
    });

    // An older case first (so the queue shows order), then the one the reviewer works.
    const other = dep.start({
      caseId: 'case-1204-a',
      accountId: 'acct-1204',
      decision: 'review',
      score: 0.74,
      reasons: ['model-pivot'],
      reasonDetails: [{ signal: 'model-pivot', value: 0.6, baseline: 0.1, text: 'moved to a newly released model within an hour of its release' }],
      clusterId: null,
      relatedAccountIds: [],
      flaggedAt: Date.now() - 3 * HOUR,
      evidence: {},
    });
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

  test('a reviewer works the queue with the keyboard only: selects, reads, approves with a reason; the account is suspended and audited', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
    await page.goto(con.loginUrl);
    // the token leaves the address bar immediately
    await page.waitForFunction(() => !(globalThis as unknown as { location: { hash: string } }).location.hash.includes('token'));

    const rows = page.locator('#list .row');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    await expect(rows.nth(0).innerText()).resolves.toContain('acct-1204'); // oldest first
    await expect(page.locator('#whoami').innerText()).resolves.toBe('local:reviewer-alice');
    // the shortcuts are on screen
    const keys = await page.locator('#shortcuts').innerText();
    for (const k of ['j', 'k', 'a', 'r', '/']) expect(keys).toContain(k);
    expect(keys).toMatch(/a\s+approve/);

    // sort and find: highest score first puts the campaign account on top; `/` focuses the search box
    await page.locator('#filter-sort').selectOption('score');
    await page.locator('#list .row').first().filter({ hasText: 'acct-7781' }).waitFor();
    await page.keyboard.press('/');
    await page.keyboard.type('1204');
    await page.locator('#list .row').first().filter({ hasText: 'acct-1204' }).waitFor();
    await expect(page.locator('#list .row').count()).resolves.toBe(1);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Escape');
    await page.locator('#list .row[data-case="case-7781-a"]').waitFor();

    // j selects the first row (score order: case-7781-a)
    await page.keyboard.press('j');
    await page.locator('#case-title', { hasText: 'acct-7781' }).waitFor();
    // evidence charts rendered from the snapshot
    expect(await page.locator('#chart-activity svg rect').count()).toBeGreaterThanOrEqual(12);
    expect(await page.locator('#chart-models .legend').innerText()).toContain('claude-opus-5');
    expect(await page.locator('#chart-prompts').innerText()).toContain('cot_elicitation');
    const cluster = await page.locator('#chart-cluster').innerText();
    expect(cluster).toContain('acct-7782');
    expect(cluster).toMatch(/shared prompt templates?/);
    expect(await page.locator('#audit').innerText()).toContain('case-opened');
    // j / k move through the queue
    await page.keyboard.press('j');
    await page.locator('#case-title', { hasText: 'acct-1204' }).waitFor();
    await page.keyboard.press('k');
    await page.locator('#case-title', { hasText: 'acct-7781' }).waitFor();

    // a: the case is claimed (another reviewer sees it taken), the reason box takes the keys, Enter confirms
    await expect(page.locator('#approve').isDisabled()).resolves.toBe(true);
    await page.keyboard.press('a');
    await page.locator('#armed', { hasText: 'Enter to confirm' }).waitFor();
    const bob = dep.operator('local:reviewer-bob');
    expect((await queueView(bob, { find: 'case-7781-a' }))[0].claim).toMatchObject({ by: 'local:reviewer-alice' });
    await page.keyboard.type('Same templates and minute-level synchrony as acct-7782; CoT elicitation at 62%.');
    await page.keyboard.press('Enter');
    await page.locator('#toast', { hasText: 'Approved case-7781-a as arn:aws:iam::000000000000:user/reviewer-alice' }).waitFor();
    // ... and the console moves on to the next case, claimed for the reviewer
    await page.locator('#case-title', { hasText: 'acct-1204' }).waitFor();
    expect((await queueView(bob, { find: 'case-1204-a' }))[0].claim).toMatchObject({ by: 'local:reviewer-alice' });
    await page.locator('#list .row[data-case="case-1204-a"] .claim', { hasText: 'claimed by you' }).waitFor();
    bob.destroy();

    const done = await h.sfn.waitForExecution(exec, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    const account = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: 'ACCOUNT#acct-7781', sk: 'STATUS' } }))).Item!;
    expect(account).toMatchObject({ status: 'suspended', suspendedBy: 'arn:aws:iam::000000000000:user/reviewer-alice' });
    expect(h.apigw.apiKeys().find((k) => k.customerId === 'acct-7781')!.enabled).toBe(false);
    const audit = (
      await h.doc.send(
        new QueryCommand({
          TableName: dep.controlTable,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)',
          ExpressionAttributeValues: { ':p': 'CASE#case-7781-a', ':a': 'AUDIT#' },
        }),
      )
    ).Items!;
    expect(audit.find((a) => a.action === 'review-approved')).toMatchObject({
      actor: 'arn:aws:iam::000000000000:user/reviewer-alice',
      reason: expect.stringContaining('Same templates'),
    });
    expect(audit.find((a) => a.action === 'suspended')).toMatchObject({ actor: 'arn:aws:iam::000000000000:user/reviewer-alice' });

    // the decided case, from Recent decisions: the outcome and the audit trail
    await page.locator('#tabs button[data-tab="recent"]').click();
    await page.locator('#list .row', { hasText: 'acct-7781' }).click();
    await page.locator('#account-status', { hasText: 'suspended' }).waitFor({ timeout: 60_000 });
    await page.locator('#audit', { hasText: 'review-approved' }).waitFor();
    await page.close();
  });

  test('the audit view filters the trail across cases and exports it as CSV; the signals view shows the feedback', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
    await page.goto(con.loginUrl);
    await page.locator('#tabs button[data-tab="audit"]').click();
    const table = page.locator('#audit-table');
    await table.waitFor();
    const all = await table.innerText();
    expect(all).toContain('review-approved');
    expect(all).toContain('case-1204-a');
    await page.locator('#audit-account').fill('acct-7781');
    await page.locator('#audit-action').selectOption('review-approved');
    await page.locator('#audit-table tbody tr').first().waitFor();
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#audit-table tbody tr').length === 1);
    expect(await page.locator('#audit-table').innerText()).toMatch(
      /arn:aws:iam::000000000000:user\/reviewer-alice\s+review-approved\s+case-7781-a\s+acct-7781\s+Same templates/,
    );
    await page.locator('#audit-actor').fill('nobody-at-all');
    await page.locator('#audit-apply').click();
    await page.locator('#audit-table', { hasText: 'No audit entries match' }).waitFor();
    await page.locator('#audit-actor').fill('alice');
    await page.locator('#audit-apply').click();
    await page.locator('#audit-table tbody tr').first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    expect(download.suggestedFilename()).toBe('distill-guard-audit.csv');
    const csv = fs.readFileSync((await download.path())!, 'utf8').split('\r\n');
    expect(csv[0]).toBe('at,actor,action,caseId,accountId,reason,details');
    expect(csv.filter(Boolean)).toHaveLength(2);
    expect(csv[1]).toMatch(/^\S+Z,arn:aws:iam::000000000000:user\/reviewer-alice,review-approved,case-7781-a,acct-7781,/);

    await page.locator('#tabs button[data-tab="signals"]').click();
    const signals = page.locator('#signals-table tr[data-signal="synchronized-activity"]');
    await signals.waitFor();
    expect(await signals.innerText()).toMatch(/synchronized-activity\s+1\s+0\s+1\s+0\s+0\s+0%/);
    await page.locator('#combos-table', { hasText: 'cot-elicitation+shared-templates+synchronized-activity' }).waitFor();
    await page.close();
  });

  test('operators run the allowlist and shadow mode from the console, with a reason', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(con.loginUrl);
    await page.locator('#tabs button[data-tab="allowlist"]').click();
    await page.locator('#allow-account').fill('acct-partner');
    await page.locator('#allow-owner').fill('partnerships');
    await page.locator('#allow-days').selectOption('30');
    await expect(page.locator('#allow-add-btn').isDisabled()).resolves.toBe(true);
    await page.locator('#allow-reason').fill('eval partner, contract P-3');
    await page.locator('#allow-add-btn').click();
    await page.locator('#toast', { hasText: 'Allowlisted acct-partner' }).waitFor();
    expect((await op.allowlistList()).map((e) => [e.accountId, e.owner, e.createdBy])).toEqual([
      ['acct-partner', 'partnerships', 'local:reviewer-alice'],
    ]);
    await page.locator('#allow-remove-reason').fill('contract ended');
    await page.locator('#allow-remove-btn').click();
    await page.locator('#toast', { hasText: 'Removed acct-partner' }).waitFor();
    expect(await op.allowlistList()).toEqual([]);

    await page.locator('#tabs button[data-tab="controls"]').click();
    await page.locator('#breaker-card', { hasText: 'armed' }).waitFor();
    await page.locator('#shadow-signals').fill('model-pivot');
    await page.locator('#shadow-reason').fill('new detector version, watch first');
    await page.locator('#shadow-save').click();
    await page.locator('#toast', { hasText: 'shadowed signals: model-pivot' }).waitFor();
    await expect(op.shadowStatus()).resolves.toMatchObject({ global: false, signals: ['model-pivot'], source: 'config' });
    await page.locator('#status', { hasText: 'shadow: model-pivot' }).waitFor();
    await page.locator('#shadow-signals').fill('');
    await page.locator('#shadow-reason').fill('done watching');
    await page.locator('#shadow-save').click();
    await page.locator('#toast', { hasText: 'shadowed signals: none' }).waitFor();
    await page.close();
  });

  test('the API refuses requests without the session token, from another Host, or cross-origin', async () => {
    const noToken = await fetch(`${con.url}api/queue`);
    expect(noToken.status).toBe(401);
    const badHost = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: con.port, path: '/api/queue', headers: { Host: 'evil.example:80', 'X-Console-Token': con.token } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
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
    const noReason = await fetch(`${con.url}api/cases/case-1204-a/reject`, {
      method: 'POST',
      headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(noReason.status).toBe(400);
    const queue = (await (await fetch(`${con.url}api/queue`, { headers: { 'X-Console-Token': con.token } })).json()) as {
      review: { caseId: string }[];
    };
    expect(queue.review.map((c) => c.caseId)).toEqual(['case-1204-a']);
    expect(JSON.stringify(queue)).not.toMatch(/taskToken/i);
    // the new routes sit behind the same guards
    expect((await fetch(`${con.url}api/audit.csv`)).status).toBe(401);
    const forgedClaim = await fetch(`${con.url}api/cases/case-1204-a/claim`, {
      method: 'POST',
      headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json', Origin: 'https://evil.example' },
      body: '{}',
    });
    expect(forgedClaim.status).toBe(403);
    const noReasonShadow = await fetch(`${con.url}api/shadow`, {
      method: 'POST',
      headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ global: true, signals: [] }),
    });
    expect(noReasonShadow.status).toBe(400);
    const badSort = await fetch(`${con.url}api/queue?sort=size`, { headers: { 'X-Console-Token': con.token } });
    expect([badSort.status, ((await badSort.json()) as { error: string }).error]).toEqual([
      400,
      'sort must be one of age, score, deadline, cluster, got "size"',
    ]);
  });

  test('accounts with ordinary provider ids: the reinstate endpoint takes any id the account-id rule accepts', async () => {
    const post = (id: string) =>
      fetch(`${con.url}api/accounts/${encodeURIComponent(id)}/reinstate`, {
        method: 'POST',
        headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'ticket 42' }),
      });
    // A valid id that has no status record: refused by the store (409), not as a malformed id (400).
    for (const id of ['auth0|abc', 'org/team a+b#1', 'kunde-müller', 'x'.repeat(200)]) {
      const r = await post(id);
      expect([id, r.status, ((await r.json()) as { error: string }).error]).toEqual([id, 409, expect.stringMatching(/has no status record/)]);
    }
    for (const id of ['a\u0000b', ' lead', 'z'.repeat(257)]) expect((await post(id)).status).toBe(400);
    const broken = await fetch(`${con.url}api/accounts/%E0%A4%A/reinstate`, {
      method: 'POST',
      headers: { 'X-Console-Token': con.token, 'Content-Type': 'application/json' },
      body: '{"reason":"x y z"}',
    });
    expect(broken.status).toBe(400);
  });

  test('a reviewer chooses the restrict step for a case: the account is restricted (step-up), not suspended', async () => {
    const exec = dep.start({
      caseId: 'case-rs-1',
      accountId: 'acct-rs-1',
      decision: 'review',
      score: 0.7,
      reasons: ['prompt-library', 'cot-elicitation'],
      reasonDetails: [{ signal: 'cot-elicitation', value: 0.4, baseline: 0.04, text: '40% of prompts ask for step-by-step reasoning traces' }],
      clusterId: null,
      relatedAccountIds: [],
      flaggedAt: Date.now() - 10 * 60_000,
      evidence: {},
    });
    await h.sfn.waitForPendingTask('Review', exec, 30_000);
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(con.loginUrl);
    await page.locator('#list .row[data-case="case-rs-1"]').click();
    await page.locator('#reason').fill('Established customer; coordinated CoT, ask for verification first.');
    await page.locator('#restrict').click();
    await page.locator('#toast', { hasText: 'Restricted case-rs-1 as arn:aws:iam::000000000000:user/reviewer-alice' }).waitFor();
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    const c = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: 'CASE#case-rs-1', sk: 'CASE' } }))).Item!;
    expect(c).toMatchObject({ state: 'closed', outcome: 'restricted' });
    const a = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: 'ACCOUNT#acct-rs-1', sk: 'STATUS' } }))).Item!;
    expect(a).toMatchObject({ status: 'restricted', stepUp: true });
    await page.close();
  });

  test('a reviewer decides a whole cluster case with one member excluded; the others are suspended, the excluded one waits', async () => {
    const members = ['acct-hy1', 'acct-hy2', 'acct-hy3'];
    for (const m of members) {
      h.apigw.createApiKey({ name: `${m}-key`, customerId: m, enabled: true });
      await seed(m, {
        ips: ['203.0.113.40'],
        tpl: ['t-hy01', 't-hy02'],
        models: { 'claude-opus-5': [100, 200, 300] },
        pcs: { cot_elicitation: 0.7, rewrite: 0.3 },
        hours: 6,
        minutes: Array.from({ length: 30 }, (_, i) => i),
      });
    }
    const execs = members.map((m) =>
      dep.start({
        caseId: `case-${m}`,
        accountId: m,
        decision: 'review',
        score: 0.88,
        reasons: ['synchronized-activity', 'shared-templates'],
        reasonDetails: [{ signal: 'shared-templates', value: 2, baseline: 0, text: '2 prompt templates shared with accounts in cluster c-hy' }],
        clusterId: 'c-hy',
        relatedAccountIds: members.filter((x) => x !== m),
        flaggedAt: Date.now() - 20 * 60_000,
        evidence: {},
      }),
    );
    for (const e of execs) await h.sfn.waitForPendingTask('Review', e, 30_000);

    const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
    await page.goto(con.loginUrl);
    await page.locator('#tabs button[data-tab="clusters"]').click();
    await page.locator('#list .row[data-cluster="c-hy.g1"]').click();
    await page.locator('#cluster-title', { hasText: 'c-hy.g1' }).waitFor();
    expect(await page.locator('#cluster-members tbody tr').count()).toBe(3);
    expect(await page.locator('#cluster-members').innerText()).toMatch(/shared prompt templates?/);
    expect(await page.locator('#cluster-prompts').innerText()).toContain('cot_elicitation');
    expect(await page.locator('#cluster-timeline svg rect').count()).toBeGreaterThanOrEqual(6);
    // one member's own evidence, on demand
    await page.locator('tr[data-member="acct-hy1"] details summary').click();
    await page.locator('tr[data-member="acct-hy1"] details', { hasText: 'claude-opus-5' }).waitFor();

    await page.locator('#cluster-reason').fill('One campaign: same templates, same source, minute-level sync.');
    await expect(page.locator('#cluster-approve').isDisabled()).resolves.toBe(false);
    await page.locator('input.exclude[data-account="acct-hy2"]').check();
    // an exclusion needs its own reason
    await expect(page.locator('#cluster-approve').isDisabled()).resolves.toBe(true);
    await page.locator('input.exclude-reason[data-account="acct-hy2"]').fill('our own research account');
    await expect(page.locator('#cluster-approve').innerText()).resolves.toContain('suspend 2 members');
    await page.locator('#cluster-approve').click();
    await page.locator('#toast', { hasText: 'Approved c-hy.g1: 2 members, 1 excluded' }).waitFor();

    for (const i of [0, 2]) expect((await h.sfn.waitForExecution(execs[i], 30_000)).status).toBe('SUCCEEDED');
    const status = async (a: string) =>
      (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: `ACCOUNT#${a}`, sk: 'STATUS' } }))).Item!;
    expect(await status('acct-hy1')).toMatchObject({ status: 'suspended', suspendedBy: 'arn:aws:iam::000000000000:user/reviewer-alice' });
    expect(await status('acct-hy3')).toMatchObject({ status: 'suspended' });
    expect(await status('acct-hy2')).toMatchObject({ status: 'active', openCaseId: 'case-acct-hy2' });
    expect(h.sfn.pendingTasks(execs[1]).map((t) => t.stateName)).toEqual(['Review']);
    await page.locator('#cluster-decision', { hasText: 'approved by local:reviewer-alice' }).waitFor();
    await page.locator('#audit', { hasText: 'cluster-member-excluded' }).waitFor();
    await page.close();
  });
});
