/**
 * The demo scenario: simulate a few hours of traffic (organic accounts and extraction campaigns), start the local
 * session on the pipeline from cdk.out, give the simulated accounts API keys on the demo API's usage plan, roll a
 * signal out in shadow mode, push the traffic through in log time with a live status line, let the review step
 * play out, reinstate one suspended account (the undo path), and print the summary.
 */
import * as fs from 'fs';
import * as path from 'path';
import { simulate } from '../../sim';
import { driveTraffic } from '../runtime/drive';
import { LocalSession } from '../runtime/session';
import { LiveStatus } from './live-status';
import { DemoOutput, LocalDemoOptions } from './options';
import { collectSummary, printSummary } from './summary';

type Simulation = ReturnType<typeof simulate>;

/** The simulation and the log-time window the demo pushes through the pipeline. */
function simulation(o: LocalDemoOptions): { sim: Simulation; start: number; stopAt: number } {
  const hours = o.hours ? Number(o.hours) : o.days ? Number(o.days) * 24 : 4;
  if (!(hours > 0)) throw new Error(`--hours/--days must be positive, got ${o.hours ?? o.days}`);
  const days = Math.max(1, Math.ceil(hours / 24));
  // Log time ends at the last UTC midnight: recent enough for the aggregator's timestamp plausibility window
  // (records far in the past are rejected as they would be in AWS), and whole days for the simulator.
  const simStart = Math.floor(Date.now() / 86_400_000) * 86_400_000 - days * 86_400_000;
  const sim = simulate({ scale: 'small', seed: o.seed, days, organic: Number(o.organic), campaignScale: Number(o.campaignScale), start: simStart });
  const start = sim.options.start;
  return { sim, start, stopAt: start + hours * 3_600_000 };
}

async function startSession(o: LocalDemoOptions, { out }: DemoOutput, start: number): Promise<LocalSession> {
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
  return session;
}

/** API keys for the simulated accounts (the serving tier's keys; suspension disables them) ... */
async function createAccountKeys(session: LocalSession, accounts: string[]): Promise<void> {
  const created = accounts.map((a) => session.emu.apiGateway.createApiKey({ name: `${a}-key`, customerId: a, enabled: true }));
  // ... on the demo API's usage plan, which the restrict step moves them off (to the restricted plan) and back.
  const standardPlan = session.rt.model.usagePlans.find((p) => /UsagePlan/.test(p.logicalId) && !/Restricted/.test(p.logicalId));
  if (standardPlan && session.rt.clients.apigateway) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
    const { CreateUsagePlanKeyCommand } = require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway');
    for (const k of created)
      await session.rt.clients.apigateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: standardPlan.id, keyId: k.id, keyType: 'API_KEY' }));
  }
}

/**
 * Per-signal shadow mode, set the way an operator would (audited), so the run shows both outcomes:
 * auto-suspensions, and cases that wait for a human.
 */
async function setShadowSignals(session: LocalSession, list: string, { out }: DemoOutput): Promise<void> {
  const shadowSignals = list
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!shadowSignals.length) return;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
    const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
    const op = await connect({ local: true, endpointsFile: session.stateFile, identity: 'local:npm-start' });
    await op.setShadow({ global: false, signals: shadowSignals }, 'local demo: new signal rolled out in shadow mode; its cases go to human review');
    out(`  per-signal shadow mode on for ${shadowSignals.join(', ')} (cases resting partly on it go to review; --shadow-signals "" to turn off)`);
  } catch (err) {
    out(`  could not set shadow mode: ${(err as Error).message}`);
  }
}

interface Interrupts {
  stopping: () => boolean;
  dispose: () => void;
}

/** Ctrl-C (or SIGTERM) asks the run to stop; a second one aborts. */
function interruptible({ out }: DemoOutput): Interrupts {
  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(130);
    stopping = true;
    out('\n  stopping (Ctrl-C again to abort) ...');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return {
    stopping: () => stopping,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}

/** Push the traffic, let the review step play out, and with `keepRunning` run on in real time until Ctrl-C. */
async function runTraffic(
  o: LocalDemoOptions,
  session: LocalSession,
  status: LiveStatus,
  events: Parameters<typeof driveTraffic>[1],
  signals: Interrupts,
  io: DemoOutput,
): Promise<void> {
  try {
    await driveTraffic(session, events, {
      shouldStop: signals.stopping,
      onProgress: async (p) => {
        status.logTime = p.logTimeMs;
        status.eventsPut = p.eventsPut;
        await status.update();
      },
    });
    // Let the review step play out: wait for auto-approval (if any review is pending) and its consequences.
    const waitUntil = Date.now() + Math.max(15_000, Number(o.autoApproveAfter) * 1000 + 15_000);
    while (!signals.stopping() && o.autoApprove && session.pendingReviews() > 0 && status.approved.length === 0 && Date.now() < waitUntil) {
      await status.update();
      await new Promise((r) => setTimeout(r, 500));
    }
    await session.settle(60_000);
    await status.update(true);
    if (o.keepRunning && !signals.stopping()) {
      status.newline();
      io.out('  traffic done; the pipeline keeps running (review from another terminal). Ctrl-C to stop and print the summary.');
      const stopRealtime = session.rt.clock.runRealtime(1);
      while (!signals.stopping()) {
        await status.update();
        await new Promise((r) => setTimeout(r, 1000));
      }
      await stopRealtime();
    }
  } finally {
    signals.dispose();
  }
  status.newline();
}

/** The undo path: an operator reinstates one suspended account (Account Reinstated reaches the subscriber). */
async function reinstateOne(session: LocalSession, { out }: DemoOutput): Promise<Array<{ accountId: string; actor: string }>> {
  const reinstated: Array<{ accountId: string; actor: string }> = [];
  await session.settle(30_000);
  const suspendedNow = [...(await session.counts()).suspendedAccounts].sort();
  if (suspendedNow.length === 0) return reinstated;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
    const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
    const op = await connect({ local: true, endpointsFile: session.stateFile, identity: 'local:npm-start-operator' });
    await op.reinstate(suspendedNow[0], 'demo of the undo path by npm start (use --no-demo-reinstate to skip)');
    reinstated.push({ accountId: suspendedNow[0], actor: 'local:npm-start-operator' });
    out(`  >> reinstated account ${suspendedNow[0]} as local:npm-start-operator (keys re-enabled, Account Reinstated published)`);
  } catch (err) {
    out(`  >> reinstate failed: ${(err as Error).message}`);
  }
  return reinstated;
}

async function screenshot(session: LocalSession, file: string, { out }: DemoOutput): Promise<void> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
    const { captureConsole } = require('../../console/screenshot') as typeof import('../../console/screenshot');
    const shot = await captureConsole({ endpointsFile: session.stateFile, file });
    out(`  screenshot          ${shot.file} (the review console on this run${shot.caseId ? `, case ${shot.caseId}` : ''})`);
  } catch (err) {
    out(`  screenshot          failed: ${(err as Error).message}`);
  }
}

/** Runs the scenario on a fresh local session; resolves with the exit code. `t0` is when the demo started. */
export async function runScenario(o: LocalDemoOptions, io: DemoOutput, t0: number): Promise<number> {
  const { sim, start, stopAt } = simulation(o);
  const session = await startSession(o, io, start);
  const accounts = Object.keys(sim.labels);
  await createAccountKeys(session, accounts);
  await setShadowSignals(session, o.shadowSignals, io);
  const signals = interruptible(io);
  const status = await LiveStatus.start(session, o, io, start);
  function* limited() {
    for (const e of sim.events()) {
      if (Number(e.log.requestTimeEpoch) >= stopAt) return;
      yield e;
    }
  }
  await runTraffic(o, session, status, limited(), signals, io);
  const reinstated = o.demoReinstate ? await reinstateOne(session, io) : [];
  const result = await collectSummary({
    session,
    labels: sim.labels,
    startMs: start,
    logTimeMs: status.logTime,
    eventsPut: status.eventsPut,
    approved: status.approved,
    reinstated,
    t0,
  });
  printSummary(result, { seed: o.seed, accounts: accounts.length }, io);
  if (o.summaryJson) fs.writeFileSync(o.summaryJson, `${JSON.stringify(result.summary, null, 2)}\n`);
  if (o.json) process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
  if (o.screenshot) await screenshot(session, o.screenshot, io);
  await session.stop();
  return 0;
}
