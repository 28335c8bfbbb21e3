/**
 * A local session: emulators + the runtime for the synthesized stack + a subscriber (a rule and queue on the
 * ban-event bus, created the way a consuming team would) + the state file other commands read
 * (`.local/endpoints.json`: `distill-guard review ...` uses it to reach the local endpoints).
 *
 * `runTraffic` drives simulated traffic through it in log time: it puts each slice of the log on the stream,
 * waits until the pipeline has consumed it, then advances the simulated clock so scheduled functions (the scorer)
 * fire at the log time they would have fired in AWS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ScanCommand, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { startEmulators, Emulators } from '../emulators';
import { LocalRuntime, LocalEndpoints } from './runtime';
import { startLambda, LocalLambda } from '../services/lambda';
import { ingestTarget, TrafficWriter } from './traffic';
import type { AccessLogRecord, UsageEvent } from '../../src/shared/contract';
import { ACCOUNT_PREFIX, OUTBOX_PK_PREFIX, PK_PREFIX, WINDOW_PREFIX } from '../../src/shared/tables';

/** The pattern a team subscribing to ban events uses (README "Subscribing to ban events"). */
export const SUBSCRIBER_PATTERN = {
  source: ['distill-guard'],
  'detail-type': ['Account Flagged', 'Account Restricted', 'Account Suspended', 'Account Reinstated'],
};

export interface LocalSessionOptions {
  /** @default 'cdk.out' */
  readonly cdkOut?: string;
  /** @default the only (or 'DistillGuard') stack */
  readonly stackName?: string;
  /** Where to write the endpoints/state file. @default '.local/endpoints.json' */
  readonly stateFile?: string;
  /** Function logs. @default '.local/logs/functions.log' */
  readonly functionLogFile?: string;
  /** Start of simulated time. @default Date.now() */
  readonly clockStartMs?: number;
  readonly log?: (msg: string) => void;
  /** Environment overrides per function logical id or name ('*' = all), applied after template resolution. */
  readonly envOverrides?: Record<string, Record<string, string>>;
  /** Create the subscriber rule + queue. @default true */
  readonly subscriber?: boolean;
  /** @default 2 */
  readonly onDemandShards?: number;
  /** Deliver partial batches once a shard is caught up (log-time driving). @default true */
  readonly flushWhenCaughtUp?: boolean;
}

export interface SubscriberStats {
  received: number;
  byDetailType: Record<string, number>;
  /** accountId -> detail types received for it */
  byAccount: Record<string, string[]>;
}

export interface PipelineCounts {
  accountsScored: number;
  decisions: Record<string, number>;
  cases: number;
  casesByState: Record<string, number>;
  suspended: number;
  /** accounts whose status is suspended */
  suspendedAccounts: string[];
  /** caseId -> { accountId, state } */
  caseList: Array<{ caseId: string; accountId: string; state: string; decision?: string }>;
  outboxPending: number;
}

/** The emulated services' endpoints under the names the runtime and the state file both use (in this order). */
function serviceEndpoints(e: Emulators['endpoints']) {
  return { kinesis: e.kinesis, sqs: e.sqs, s3: e.s3, eventbridge: e.eventbridge, sfn: e.sfn, api_gateway: e.apiGateway };
}

export class LocalSession {
  readonly subscriberStats: SubscriberStats = { received: 0, byDetailType: {}, byAccount: {} };
  subscriberQueueUrl?: string;
  private subscriberStop = false;
  private subscriberLoop?: Promise<void>;
  readonly writer: TrafficWriter;

  private constructor(
    readonly emu: Emulators,
    readonly rt: LocalRuntime,
    readonly stateFile: string,
    /** Lambda `Invoke` on the template's functions (the operators' tools invoke the reinstatement function). */
    readonly lambda: LocalLambda,
  ) {
    this.writer = new TrafficWriter(rt.clients.kinesis, ingestTarget(rt.model));
  }

  static async start(opts: LocalSessionOptions = {}): Promise<LocalSession> {
    const log = opts.log ?? (() => undefined);
    const emu = await startEmulators({ region: 'us-east-1' });
    let rt: LocalRuntime | undefined;
    let lambda: LocalLambda | undefined;
    try {
      const e = emu.endpoints;
      const endpoints: LocalEndpoints = { dynamodb: e.dynamodb!, ...serviceEndpoints(e), secrets_manager: e.secretsManager, kms: e.kms };
      rt = await LocalRuntime.start({
        cdkOut: opts.cdkOut,
        stackName: opts.stackName,
        endpoints,
        eventbridge: emu.eventBridge,
        stepfunctions: emu.stepFunctions,
        functionLogFile: opts.functionLogFile,
        clockStartMs: opts.clockStartMs,
        log,
        envOverrides: opts.envOverrides,
        onDemandShards: opts.onDemandShards,
        idlePollMs: 100,
        flushWhenCaughtUp: opts.flushWhenCaughtUp ?? true,
      });
      const runner = rt.runner;
      lambda = await startLambda({ invoker: (fn, payload) => runner.invoke(fn, payload) });
      const s = new LocalSession(emu, rt, path.resolve(opts.stateFile ?? path.join('.local', 'endpoints.json')), lambda);
      if (opts.subscriber !== false) await s.createSubscriber(log);
      s.writeStateFile();
      return s;
    } catch (err) {
      await lambda?.stop().catch(() => undefined);
      await rt?.stop().catch(() => undefined);
      await emu.stop();
      throw err;
    }
  }

  /** The function environment value (DESIGN.md names) some function in the stack carries. */
  envValue(name: string): string | undefined {
    for (const f of this.rt.model.functions) if (f.environment[name]) return f.environment[name];
    return undefined;
  }

  /** The bus ban events go on: the one functions are told about (EVENT_BUS_NAME), else the only custom bus. */
  busName(): string | undefined {
    return this.envValue('EVENT_BUS_NAME') ?? this.rt.model.buses[0]?.name;
  }

  controlTable(): string | undefined {
    return this.envValue('CONTROL_TABLE') ?? this.rt.model.tables.find((t) => /control/i.test(t.logicalId))?.name;
  }

  featuresTable(): string | undefined {
    return this.envValue('FEATURES_TABLE') ?? this.rt.model.tables.find((t) => /feature/i.test(t.logicalId))?.name;
  }

  private async createSubscriber(log: (m: string) => void): Promise<void> {
    const bus = this.busName();
    if (!bus || !this.rt.clients.eventbridge) return;
    const q = await this.rt.clients.sqs.send(new CreateQueueCommand({ QueueName: 'local-ban-event-subscriber' }));
    this.subscriberQueueUrl = q.QueueUrl!;
    const attrs = await this.rt.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }));
    const arn = attrs.Attributes?.QueueArn ?? `arn:aws:sqs:${this.rt.model.region}:${this.rt.model.accountId}:local-ban-event-subscriber`;
    await this.rt.clients.sqs
      .send(new SetQueueAttributesCommand({ QueueUrl: q.QueueUrl, Attributes: { MessageRetentionPeriod: '86400' } }))
      .catch(() => undefined);
    await this.rt.clients.eventbridge.send(
      new PutRuleCommand({ Name: 'local-ban-event-subscriber', EventBusName: bus, EventPattern: JSON.stringify(SUBSCRIBER_PATTERN) }),
    );
    await this.rt.clients.eventbridge.send(
      new PutTargetsCommand({ Rule: 'local-ban-event-subscriber', EventBusName: bus, Targets: [{ Id: 'queue', Arn: arn }] }),
    );
    log(`subscriber rule local-ban-event-subscriber on ${bus} -> queue local-ban-event-subscriber`);
    this.subscriberLoop = this.consumeSubscriber();
  }

  private async consumeSubscriber(): Promise<void> {
    const sqs = this.rt.clients.sqs;
    while (!this.subscriberStop) {
      try {
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: this.subscriberQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const msgs = r.Messages ?? [];
        for (const m of msgs) {
          try {
            const ev = JSON.parse(m.Body ?? '{}') as { 'detail-type'?: string; detail?: { accountId?: string } };
            const dt = ev['detail-type'] ?? 'unknown';
            this.subscriberStats.received++;
            this.subscriberStats.byDetailType[dt] = (this.subscriberStats.byDetailType[dt] ?? 0) + 1;
            const acct = ev.detail?.accountId;
            if (acct) (this.subscriberStats.byAccount[acct] ??= []).push(dt);
          } catch {
            this.subscriberStats.byDetailType.unparseable = (this.subscriberStats.byDetailType.unparseable ?? 0) + 1;
          }
        }
        if (msgs.length) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.subscriberQueueUrl,
              Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
      } catch {
        if (!this.subscriberStop) await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Writes `.local/endpoints.json` (read by `distill-guard review|allowlist|breaker|console|events`). */
  writeStateFile(): void {
    const m = this.rt.model;
    const e = this.emu.endpoints;
    const state = {
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      stackName: m.stackName,
      region: m.region,
      accountId: m.accountId,
      endpoints: { dynamodb: e.dynamodb, dynamodb_streams: e.dynamodb, ...serviceEndpoints(e), lambda: this.lambda.endpoint },
      env: this.emu.env(),
      resources: {
        controlTable: this.controlTable(),
        featuresTable: this.featuresTable(),
        stateMachineArn: this.envValue('STATE_MACHINE_ARN') ?? m.stateMachines[0]?.arn,
        reviewQueueUrl: this.envValue('REVIEW_QUEUE_URL') ?? m.queues.find((q) => /review/i.test(q.logicalId) && !/dlq|dead/i.test(q.logicalId))?.url,
        eventBusName: this.busName(),
        ingestStream: ingestTarget(m).streamName,
        subscriberQueueUrl: this.subscriberQueueUrl,
        reviewApiUrl: m.outputs.EscalationReviewApiUrl,
        reinstateFunction: m.outputs.EscalationReinstateFunctionName ?? m.functions.find((f) => /ReinstateFn/.test(f.logicalId))?.name,
        clusterDecisionFunction:
          m.outputs.EscalationClusterDecisionFunctionName ?? m.functions.find((f) => /ClusterDecisionFn/.test(f.logicalId))?.name,
      },
      outputs: m.outputs,
      physicalIds: m.physicalIds,
    };
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    fs.writeFileSync(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Reads the pipeline's state from the control table (small local scale: a scan). */
  async counts(): Promise<PipelineCounts> {
    const out: PipelineCounts = {
      accountsScored: 0,
      decisions: {},
      cases: 0,
      casesByState: {},
      suspended: 0,
      suspendedAccounts: [],
      caseList: [],
      outboxPending: 0,
    };
    const table = this.controlTable();
    if (!table) return out;
    let key: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const r: ScanCommandOutput = await this.rt.clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: key }));
      for (const it of r.Items ?? []) {
        const pk = it.pk?.S ?? '';
        const sk = it.sk?.S ?? '';
        if (pk.startsWith(PK_PREFIX.score) && sk === 'SCORE') {
          out.accountsScored++;
          const d = it.decision?.S ?? 'unknown';
          out.decisions[d] = (out.decisions[d] ?? 0) + 1;
        } else if (pk.startsWith(PK_PREFIX.account) && sk === 'STATUS' && it.status?.S === 'suspended') {
          out.suspended++;
          out.suspendedAccounts.push(pk.slice(PK_PREFIX.account.length));
        } else if (pk.startsWith(PK_PREFIX.case) && sk === 'CASE') {
          out.cases++;
          const state = it.state?.S ?? it.gsi1pk?.S?.replace(/^CASES#/, '') ?? 'unknown';
          out.casesByState[state] = (out.casesByState[state] ?? 0) + 1;
          out.caseList.push({ caseId: pk.slice(PK_PREFIX.case.length), accountId: it.accountId?.S ?? '', state, decision: it.decision?.S });
        } else if (pk.startsWith(OUTBOX_PK_PREFIX) && !it.publishedAt) out.outboxPending++; // published items stay 7 days (TTL)
      }
      key = r.LastEvaluatedKey;
    } while (key);
    return out;
  }

  /** Distinct accounts with feature windows (what the scorer evaluates). */
  async featureAccounts(): Promise<number> {
    const table = this.featuresTable();
    if (!table) return 0;
    const seen = new Set<string>();
    let key: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const r: ScanCommandOutput = await this.rt.clients.dynamodb.send(
        new ScanCommand({ TableName: table, ExclusiveStartKey: key, ProjectionExpression: 'pk' }),
      );
      for (const it of r.Items ?? []) if (it.pk?.S?.startsWith(ACCOUNT_PREFIX)) seen.add(it.pk.S);
      key = r.LastEvaluatedKey;
    } while (key);
    return seen.size;
  }

  /** Sum of the per-window request counters (`n`) in the features table: the events the aggregator counted. */
  async countedEvents(): Promise<number> {
    const table = this.featuresTable();
    if (!table) return 0;
    let total = 0;
    let key: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const r: ScanCommandOutput = await this.rt.clients.dynamodb.send(
        new ScanCommand({
          TableName: table,
          ExclusiveStartKey: key,
          ProjectionExpression: 'pk, sk, n',
          FilterExpression: 'begins_with(pk, :a) AND begins_with(sk, :w)',
          ExpressionAttributeValues: { ':a': { S: ACCOUNT_PREFIX }, ':w': { S: WINDOW_PREFIX } },
        }),
      );
      for (const it of r.Items ?? []) total += Number(it.n?.N ?? 0);
      key = r.LastEvaluatedKey;
    } while (key);
    return total;
  }

  /** Put traffic on the stream (access logs as CloudWatch envelopes, usage events as JSON). */
  async put(items: Array<{ log: AccessLogRecord; usage?: UsageEvent }>): Promise<void> {
    await this.writer.write(items);
  }

  /** Waits for the pipeline to be idle: stream consumers caught up, no function running, workflows settled. */
  async settle(timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await this.rt.waitForQuiescence(Math.max(1000, deadline - Date.now()), 1);
      await this.emu.eventBridge.idle();
      // Workflows are settled when every running execution waits for a task token (a human review).
      const sfn = this.emu.stepFunctions;
      const waiting = new Set(sfn.pendingTasks().map((t) => t.executionArn));
      const busy = sfn.listExecutions().filter((x) => x.status === 'RUNNING' && !waiting.has(x.executionArn));
      if (busy.length === 0 && this.rt.runner.inFlight() === 0) return ok;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Executions waiting for a reviewer (task token pending). */
  pendingReviews(): number {
    return this.emu.stepFunctions.pendingTasks().length;
  }

  async stop(): Promise<void> {
    this.subscriberStop = true;
    await this.subscriberLoop?.catch(() => undefined);
    await this.lambda.stop().catch(() => undefined);
    await this.rt.stop().catch(() => undefined);
    await this.emu.stop();
    try {
      const j = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as { pid?: number };
      if (j.pid === process.pid) fs.rmSync(this.stateFile, { force: true });
    } catch {
      /* already gone */
    }
  }
}
