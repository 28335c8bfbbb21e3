/**
 * `distill-guard local` (= `npm start`): synthesize the CDK app, start the emulators, create everything the
 * template declares, run the bundles from cdk.out, push simulated traffic through the pipeline in log time, let a
 * reviewer complete the review step from the command line, and print what happened.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError, nonNegativeInt, positiveNumber } from '../usage';

interface LocalCliOptions {
  synth: boolean;
  cdkOut: string;
  stack?: string;
  seed: string;
  days?: number;
  hours?: number;
  organic: number;
  campaignScale: number;
  autoApprove: boolean;
  demoReinstate: boolean;
  autoApproveAfter: number;
  shadowSignals: string;
  keepRunning: boolean;
  soak?: number;
  rate: number;
  summaryJson?: string;
  json?: boolean;
  screenshot?: string;
  verbose: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const iso = (t: number) => new Date(t).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');

export function runCdkSynth(cwd = process.cwd()): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const bin = path.join(cwd, 'node_modules', '.bin', 'cdk');
    const child = spawn(fs.existsSync(bin) ? bin : 'npx', fs.existsSync(bin) ? ['synth', '--quiet'] : ['cdk', 'synth', '--quiet'], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Date.now() - started) : reject(new Error(`cdk synth failed with exit code ${code}`))));
  });
}

function seedArg(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError(`expected a seed (any non-empty text), got '${v}'`);
  return v;
}

function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number >= 0, got '${v}'`);
  return n;
}

/** DynamoDB Local (the features and control tables) is a JVM: say what to install before anything starts. */
export function requireJava(
  run: () => { error?: Error; status: number | null; stdout?: string; stderr?: string } = () =>
    spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 20_000 }),
): void {
  const install = 'install it, e.g. apt-get install -y openjdk-17-jre-headless (Debian/Ubuntu) or brew install openjdk@17 (macOS)';
  const r = run();
  if (r.error || r.status !== 0) throw new Error(`java 17 or later is required for DynamoDB Local and was not found on PATH: ${install}`);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
  if (major < 17) throw new Error(`java 17 or later is required for DynamoDB Local, found java ${major}: ${install}`);
}

export function register(program: Command): void {
  program
    .command('local')
    .description('run the whole pipeline on this machine: cdk synth, emulators, the bundles from cdk.out, simulated traffic, review, summary')
    .option('--no-synth', 'use the existing cdk.out instead of running cdk synth first')
    .option('--cdk-out <dir>', 'cloud assembly directory', 'cdk.out')
    .option('--stack <name>', 'stack to run (default: the only stack, or DistillGuard)')
    .option('--seed <seed>', 'simulation seed', seedArg, '1')
    .addOption(
      new Option('--days <n>', 'days of simulated traffic to push through the pipeline (default: 4 hours)')
        .argParser(positiveNumber)
        .conflicts('hours'),
    )
    .option('--hours <n>', 'hours of log time to push through the pipeline (default 4)', positiveNumber)
    .option('--organic <n>', 'organic accounts in the simulation', nonNegativeInt, 120)
    .option('--campaign-scale <x>', 'multiplies the extraction-campaign accounts of the small preset', positiveNumber, 0.5)
    .option('--no-demo-reinstate', 'do not reinstate a suspended account at the end (the demo of the undo path, which emits Account Reinstated)')
    .option('--no-auto-approve', 'do not approve a pending review automatically (a human does it with `distill-guard review`)')
    .option(
      '--auto-approve-after <seconds>',
      'wait this long for a human to review before approving one pending review automatically',
      nonNegativeNumber,
      0,
    )
    .option(
      '--shadow-signals <list>',
      'before the traffic, put these signals in per-signal shadow mode through the operator API (the way a new signal is rolled out): cases resting partly on them go to human review instead of auto-suspension; "" for none',
      'shared-infrastructure',
    )
    .option('--keep-running', 'after the traffic, keep the pipeline running (review from another terminal) until Ctrl-C')
    .addOption(
      new Option('--soak <seconds>', 'steady-rate soak run instead of the simulation (see bench/soak.ts)')
        .argParser(positiveNumber)
        .conflicts(['days', 'hours', 'screenshot', 'keepRunning']),
    )
    .option('--rate <events/s>', 'soak: access-log events per second', positiveNumber, 200)
    .option('--summary-json <file>', 'also write the summary as JSON')
    .option('--json', 'print the summary as JSON on stdout (progress goes to stderr)')
    .option(
      '--screenshot <file>',
      'after the run, open the review console on the live pipeline in headless Chromium and save a screenshot (docs/console.png)',
    )
    .option('--verbose', 'print the runtime setup lines', false)
    .action(async (o: LocalCliOptions, cmd: Command) => {
      if (!o.soak && cmd.getOptionValueSource('rate') === 'cli') throw new UsageError('--rate applies only with --soak');
      const code = await runLocal(o);
      process.exit(code);
    });
}

async function runLocal(o: LocalCliOptions): Promise<number> {
  const t0 = Date.now();
  requireJava(); // before the minute of cdk synth
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // With --json the progress goes to stderr and stdout carries only the summary.
  const stream = o.json ? process.stderr : process.stdout;
  const out = (s: string) => stream.write(`${s}\n`);
  if (o.synth) {
    out('distill-guard local: cdk synth (bundling the handlers with the local esbuild) ...');
    const ms = await runCdkSynth();
    out(`  synthesized in ${(ms / 1000).toFixed(1)} s`);
  }
  if (o.soak) {
    const { runSoak } = require('../../bench/soak') as typeof import('../../bench/soak');
    const r = await runSoak({ seconds: Number(o.soak), rate: Number(o.rate), cdkOut: o.cdkOut, stackName: o.stack, log: out });
    return r.ok ? 0 : 1;
  }

  const { LocalSession } = require('../../local/runtime/session') as typeof import('../../local/runtime/session');
  const { driveTraffic } = require('../../local/runtime/drive') as typeof import('../../local/runtime/drive');
  const { simulate } = require('../../sim') as typeof import('../../sim');

  const hours = o.hours ? Number(o.hours) : o.days ? Number(o.days) * 24 : 4;
  if (!(hours > 0)) throw new Error(`--hours/--days must be positive, got ${o.hours ?? o.days}`);
  const days = Math.max(1, Math.ceil(hours / 24));
  // Log time ends at the last UTC midnight: recent enough for the aggregator's timestamp plausibility window
  // (records far in the past are rejected as they would be in AWS), and whole days for the simulator.
  const simStart = Math.floor(Date.now() / 86_400_000) * 86_400_000 - days * 86_400_000;
  const sim = simulate({ scale: 'small', seed: o.seed, days, organic: Number(o.organic), campaignScale: Number(o.campaignScale), start: simStart });
  const start = sim.options.start;
  const stopAt = start + hours * 3_600_000;

  out('distill-guard local: starting emulators (DynamoDB Local, kinesalite, fauxqs, local EventBridge / Step Functions / API Gateway) ...');
  fs.mkdirSync(path.join('.local', 'logs'), { recursive: true });
  const runtimeLog = fs.createWriteStream(path.join('.local', 'logs', 'runtime.log'), { flags: 'w' });
  const rtLog = (msg: string) => {
    runtimeLog.write(`${new Date().toISOString()} ${msg}\n`);
    if (o.verbose) out(`  ${msg}`);
  };
  const session = await LocalSession.start({ cdkOut: o.cdkOut, stackName: o.stack, clockStartMs: start, log: rtLog });
  const m = session.rt.model;
  out(
    `  stack ${m.stackName}: ${m.tables.length} tables, ${m.streams.length} streams, ${m.queues.length} queues, ${m.buses.length} buses, ${m.rules.length} rules, ` +
      `${m.functions.length} functions, ${m.eventSourceMappings.length} event source mappings, ${m.stateMachines.length} state machines (all from ${path.relative(process.cwd(), path.resolve(o.cdkOut))})`,
  );
  out(`  endpoints written to ${path.relative(process.cwd(), session.stateFile)}; logs in .local/logs/ (functions.log, runtime.log)`);

  // API keys for the simulated accounts (the serving tier's keys; suspension disables them).
  const accounts = Object.keys(sim.labels);
  const created = accounts.map((a) => session.emu.apiGateway.createApiKey({ name: `${a}-key`, customerId: a, enabled: true }));
  // ... on the demo API's usage plan, which the restrict step moves them off (to the restricted plan) and back.
  const standardPlan = m.usagePlans.find((p) => /UsagePlan/.test(p.logicalId) && !/Restricted/.test(p.logicalId));
  if (standardPlan && session.rt.clients.apigateway) {
    const { CreateUsagePlanKeyCommand } = require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway');
    for (const k of created)
      await session.rt.clients.apigateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: standardPlan.id, keyId: k.id, keyType: 'API_KEY' }));
  }

  // Per-signal shadow mode, set the way an operator would (audited), so the run shows both outcomes:
  // auto-suspensions, and cases that wait for a human.
  const shadowSignals = o.shadowSignals
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (shadowSignals.length) {
    try {
      const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
      const op = await connect({ local: true, endpointsFile: session.stateFile, identity: 'local:npm-start' });
      await op.setShadow({ global: false, signals: shadowSignals }, 'local demo: new signal rolled out in shadow mode; its cases go to human review');
      out(`  per-signal shadow mode on for ${shadowSignals.join(', ')} (cases resting partly on it go to review; --shadow-signals "" to turn off)`);
    } catch (err) {
      out(`  could not set shadow mode: ${(err as Error).message}`);
    }
  }

  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(130);
    stopping = true;
    out('\n  stopping (Ctrl-C again to abort) ...');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  // ---- live status + review ----
  const isTty = Boolean(stream.isTTY);
  let counts = await session.counts();
  let lastCountsAt = 0;
  let lastLine = 0;
  let reviewHintShown = false;
  let firstReviewSeenAt = 0;
  const approved: Array<{ caseId: string; accountId: string; reviewer: string }> = [];
  let logTime = start;
  let eventsPut = 0;

  const status = async (force = false) => {
    const now = Date.now();
    if (force || now - lastCountsAt > 2000) {
      counts = await session.counts().catch(() => counts);
      lastCountsAt = now;
    }
    const st = session.rt.stats();
    const ingested = st.mappings.filter((x) => x.kind === 'kinesis').reduce((s, x) => s + x.recordsDelivered, 0);
    const waiting = session.pendingReviews();
    const line =
      `  log ${iso(logTime)} | put ${fmt(eventsPut)} requests (${fmt(session.writer.stats.records)} records) | ingested ${fmt(ingested)} records | ` +
      `scored ${fmt(counts.accountsScored)} | cases ${counts.cases} | suspended ${counts.suspended} | review waiting ${waiting} | events ${session.subscriberStats.received}`;
    if (isTty) stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 200) - 1)}`);
    else if (force || now - lastLine > 5000) {
      out(line);
      lastLine = now;
    }
    if (waiting > 0 && !reviewHintShown) {
      reviewHintShown = true;
      firstReviewSeenAt = now;
      const pending = counts.caseList.find((c) => c.state === 'review');
      if (isTty) stream.write('\n');
      out(`  >> a case is waiting for human review. From another terminal:`);
      out(`       npx distill-guard review list --local`);
      out(`       npx distill-guard review show ${pending?.caseId ?? 'CASE_ID'} --local`);
      out(`       npx distill-guard review approve ${pending?.caseId ?? 'CASE_ID'} --reason "confirmed extraction campaign" --local`);
      if (o.autoApprove)
        out(
          `     (otherwise one review is approved automatically ${Number(o.autoApproveAfter) > 0 ? `after ${o.autoApproveAfter} s` : 'now'}, through the same signed review API)`,
        );
    }
    if (o.autoApprove && approved.length === 0 && waiting > 0 && now - firstReviewSeenAt >= Number(o.autoApproveAfter) * 1000) {
      await autoApprove();
    }
  };

  const autoApprove = async () => {
    try {
      const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
      const op = await connect({ local: true, endpointsFile: session.stateFile, identity: 'local:npm-start-auto-approver' });
      const queue = await op.queue(['review']);
      const next = queue[0];
      if (!next) return;
      const r = await op.decide(next.caseId, true, 'auto-approved by npm start (demo of the review step; use --no-auto-approve to review by hand)');
      approved.push({ caseId: r.caseId, accountId: next.accountId, reviewer: r.reviewer });
      if (isTty) stream.write('\n');
      out(`  >> approved review of case ${r.caseId} (account ${next.accountId}) as ${r.reviewer} through the review api (sigv4-signed)`);
    } catch (err) {
      if (isTty) stream.write('\n');
      out(`  >> auto-approve failed: ${(err as Error).message}`);
      approved.push({ caseId: 'failed', accountId: '', reviewer: '' });
    }
  };

  function* limited() {
    for (const e of sim.events()) {
      if (Number(e.log.requestTimeEpoch) >= stopAt) return;
      yield e;
    }
  }

  try {
    await driveTraffic(session, limited(), {
      shouldStop: () => stopping,
      onProgress: async (p) => {
        logTime = p.logTimeMs;
        eventsPut = p.eventsPut;
        await status();
      },
    });
    // Let the review step play out: wait for auto-approval (if any review is pending) and its consequences.
    const waitUntil = Date.now() + Math.max(15_000, Number(o.autoApproveAfter) * 1000 + 15_000);
    while (!stopping && o.autoApprove && session.pendingReviews() > 0 && approved.length === 0 && Date.now() < waitUntil) {
      await status();
      await new Promise((r) => setTimeout(r, 500));
    }
    await session.settle(60_000);
    await status(true);
    if (o.keepRunning && !stopping) {
      if (isTty) stream.write('\n');
      out('  traffic done; the pipeline keeps running (review from another terminal). Ctrl-C to stop and print the summary.');
      const stopRealtime = session.rt.clock.runRealtime(1);
      while (!stopping) {
        await status();
        await new Promise((r) => setTimeout(r, 1000));
      }
      await stopRealtime();
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (isTty) stream.write('\n');

  // ---- the undo path: an operator reinstates one suspended account (Account Reinstated reaches the subscriber) ----
  const reinstated: Array<{ accountId: string; actor: string }> = [];
  if (o.demoReinstate) {
    await session.settle(30_000);
    const suspendedNow = [...(await session.counts()).suspendedAccounts].sort();
    if (suspendedNow.length > 0) {
      try {
        const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
        const op = await connect({ local: true, endpointsFile: session.stateFile, identity: 'local:npm-start-operator' });
        await op.reinstate(suspendedNow[0], 'demo of the undo path by npm start (use --no-demo-reinstate to skip)');
        reinstated.push({ accountId: suspendedNow[0], actor: 'local:npm-start-operator' });
        out(`  >> reinstated account ${suspendedNow[0]} as local:npm-start-operator (keys re-enabled, Account Reinstated published)`);
      } catch (err) {
        out(`  >> reinstate failed: ${(err as Error).message}`);
      }
    }
  }

  // ---- summary ----
  await session.settle(30_000);
  counts = await session.counts();
  const evaluated = await session.featureAccounts().catch(() => 0);
  const st = session.rt.stats();
  const kin = st.mappings.filter((x) => x.kind === 'kinesis');
  const labels = sim.labels;
  const campaignIds = new Set(
    Object.entries(labels)
      .filter(([, l]) => l.kind === 'campaign')
      .map(([id]) => id),
  );
  const flagged = new Set([...counts.caseList.map((c) => c.accountId), ...counts.suspendedAccounts]);
  const campaignFlagged = [...flagged].filter((a) => campaignIds.has(a)).length;
  const organicFlagged = [...flagged].filter((a) => a && !campaignIds.has(a)).length;
  const keysDisabled = session.emu.apiGateway.apiKeys().filter((k) => !k.enabled).length;
  // Keys on the restricted usage plan: what the restrict step throttled (recorded by the local API Gateway).
  const restrictedPlan = m.usagePlans.find((p) => /RestrictedUsagePlan/.test(p.logicalId));
  const keysRestricted = restrictedPlan ? (session.emu.apiGateway.usagePlans().find((p) => p.id === restrictedPlan.id)?.keys.length ?? 0) : 0;
  const fnStats = Object.entries(st.functions).filter(([, f]) => f.invocations > 0);
  const summary = {
    stack: m.stackName,
    logTime: { from: iso(start), to: iso(logTime) },
    requestsPut: eventsPut,
    usageEventsPut: session.writer.stats.usageEvents,
    kinesisRecordsPut: session.writer.stats.records,
    recordsIngested: kin.reduce((s, x) => s + x.recordsDelivered, 0),
    recordsToFailureDestination: kin.reduce((s, x) => s + x.recordsDiscarded, 0),
    accountsScored: Math.max(evaluated, counts.accountsScored),
    accountsWithScoreRecord: counts.accountsScored,
    decisions: counts.decisions,
    casesOpened: counts.cases,
    casesByState: counts.casesByState,
    accountsSuspended: counts.suspended,
    queuedForReview: session.pendingReviews(),
    reviewsApproved: approved.filter((a) => a.caseId !== 'failed'),
    apiKeysDisabled: keysDisabled,
    apiKeysRestricted: keysRestricted,
    reinstated,
    eventsDelivered: {
      rule: 'local-ban-event-subscriber',
      total: session.subscriberStats.received,
      byDetailType: session.subscriberStats.byDetailType,
    },
    groundTruth: { campaignAccounts: campaignIds.size, campaignAccountsWithCase: campaignFlagged, organicAccountsWithCase: organicFlagged },
    scheduleTicks: st.scheduleTicks,
    functions: Object.fromEntries(fnStats.map(([k, f]) => [k, { invocations: f.invocations, errors: f.errors, timeouts: f.timeouts }])),
    elapsedSeconds: Math.round((Date.now() - t0) / 1000),
  };
  out('');
  out('distill-guard local: summary');
  out(
    `  log time            ${summary.logTime.from} .. ${summary.logTime.to} (seed ${o.seed}, ${accounts.length} simulated accounts, ${campaignIds.size} in extraction campaigns)`,
  );
  out(
    `  records ingested    ${fmt(summary.recordsIngested)} Kinesis records (${fmt(eventsPut)} access-log events in CloudWatch envelopes + ${fmt(summary.usageEventsPut)} usage events); ${summary.recordsToFailureDestination} to the on-failure destination`,
  );
  out(
    `  accounts scored     ${fmt(summary.accountsScored)} with features in the scorer's lookback; score records kept for ${counts.accountsScored} (${
      Object.entries(summary.decisions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    })`,
  );
  out(
    `  cases opened        ${summary.casesOpened} (${
      Object.entries(summary.casesByState)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    })`,
  );
  out(`  accounts suspended  ${summary.accountsSuspended} (API keys disabled: ${keysDisabled}); queued for review now: ${summary.queuedForReview}`);
  out(
    `  accounts restricted ${keysRestricted} API keys on the restricted usage plan (${restrictedPlan ? `rate ${restrictedPlan.throttle?.rateLimit}/s, burst ${restrictedPlan.throttle?.burstLimit}` : 'no restricted plan in the template'}); step-up set in their status`,
  );
  for (const a of summary.reviewsApproved)
    out(`  review              case ${a.caseId} (account ${a.accountId}) approved by ${a.reviewer} through the signed review API`);
  for (const r of reinstated) out(`  reinstated          account ${r.accountId} by ${r.actor} (the undo path: status restored, keys re-enabled)`);
  out(
    `  events delivered    ${summary.eventsDelivered.total} to subscriber rule local-ban-event-subscriber (${
      Object.entries(summary.eventsDelivered.byDetailType)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    })`,
  );
  out(
    `  ground truth        cases for ${campaignFlagged}/${campaignIds.size} campaign accounts and ${organicFlagged} organic accounts (labels used only here, never by detection)`,
  );
  out(
    `  functions           ${fnStats.map(([k, f]) => `${k.replace(/[0-9A-F]{8}$/, '')} ${f.invocations}${f.errors ? ` (${f.errors} errors)` : ''}`).join(', ')}`,
  );
  out(`  elapsed             ${summary.elapsedSeconds} s`);
  if (o.summaryJson) fs.writeFileSync(o.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (o.screenshot) {
    try {
      const { captureConsole } = require('../../console/screenshot') as typeof import('../../console/screenshot');
      const shot = await captureConsole({ endpointsFile: session.stateFile, file: o.screenshot });
      out(`  screenshot          ${shot.file} (the review console on this run${shot.caseId ? `, case ${shot.caseId}` : ''})`);
    } catch (err) {
      out(`  screenshot          failed: ${(err as Error).message}`);
    }
  }
  await session.stop();
  return 0;
}
