/**
 * `distill-guard events ...`: watch and replay ban events (docs/events.md).
 *
 *   events tail [--local] [--stack NAME] [--bus NAME] [--since 1h] [--detail-type T]... [--decided-by X]... [--json]
 *   events redeliver --from <time> [--to <time>] [--stack NAME] [--bus NAME] [--rule ARN]... [--json]
 *   events cleanup [--local] [--stack NAME] [--bus NAME] [--json]
 *
 * `tail` does what a consuming team does: it creates a temporary rule on the bus with an SQS queue as target,
 * long-polls the queue, prints each event (de-duplicated on `detail.eventId`), and deletes rule and queue on exit
 * (Ctrl-C, `--max`, `--timeout`). `--since` first replays the archive into that temporary rule only (AWS), or
 * prints the local bus history (--local). The same SDK calls run against AWS or, with --local, against the local
 * EventBridge and SQS endpoints of `npm start` (read from .local/endpoints.json). `redeliver` was `events replay`
 * (kept as a hidden alias): top-level `replay` is the offline log replay.
 */
import * as fs from 'fs';
import { randomBytes } from 'crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConnOpts, resolveTarget, withTargetOptions } from './ops-common';
import { UsageError, checked, deprecatedOption, deprecationNotice, positiveInt, positiveNumber } from '../usage';
import {
  DeleteRuleCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListEventBusesCommand,
  ListRulesCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  StartReplayCommand,
  DescribeReplayCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DETAIL_TYPES, EVENT_SOURCE } from '../../src/shared/contract';

export const TAIL_PREFIX = 'distill-guard-tail-';

export interface TailClients {
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
}

export interface TailOptions {
  busName: string;
  detailTypes?: string[];
  decidedBy?: string[];
  /** Replay the archive from this time (epoch ms) into the tail rule first (AWS only). */
  sinceMs?: number;
  /** Archive to replay from; found via ListArchives when absent. */
  archiveArn?: string;
  /** Stop after this many distinct events. */
  maxEvents?: number;
  /** Stop after this long in total (ms). */
  timeoutMs?: number;
  /** Long-poll wait (s). @default 10 */
  waitSeconds?: number;
  /** Print raw events as JSON lines instead of the summary line. */
  json?: boolean;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Resolves when the caller wants to stop (e.g. SIGINT). */
  stopSignal?: Promise<void>;
  /** Called once rule and queue exist (tests put events then). */
  onReady?: (info: { ruleName: string; ruleArn: string; queueUrl: string }) => void | Promise<void>;
}

export interface TailResult {
  received: number;
  distinct: number;
  duplicates: number;
  ruleName: string;
  queueUrl: string;
  replayName?: string;
}

/** The event pattern a tail (and a consuming team) uses. */
export function tailPattern(detailTypes?: string[], decidedBy?: string[]): Record<string, unknown> {
  const p: Record<string, unknown> = { source: [EVENT_SOURCE] };
  if (detailTypes?.length) p['detail-type'] = detailTypes;
  if (decidedBy?.length) p.detail = { decidedBy };
  return p;
}

/** One human-readable line for an event. */
export function formatEvent(e: Record<string, unknown>, duplicate = false): string {
  const d = (e.detail ?? {}) as Record<string, unknown>;
  const bits = [
    String(d.decidedAt ?? e.time ?? '-'),
    String(e['detail-type'] ?? '-').padEnd(18),
    `account=${d.accountId ?? '-'}`,
    `by=${d.decidedBy ?? '-'}`,
    `score=${typeof d.score === 'number' ? d.score.toFixed(2) : '-'}`,
    `reasons=${Array.isArray(d.reasons) ? d.reasons.join(',') : '-'}`,
  ];
  if (d.clusterId) bits.push(`cluster=${d.clusterId}`);
  if (d.suspendedUntil !== undefined) bits.push(`until=${d.suspendedUntil ?? 'indefinite'}`);
  if (d.reinstatedReason) bits.push(`why=${d.reinstatedReason}`);
  bits.push(`case=${d.caseId ?? '-'}`, `eventId=${d.eventId ?? '-'}`);
  if (e['replay-name']) bits.push(`(replay ${e['replay-name']})`);
  if (duplicate) bits.push('(duplicate)');
  return bits.join('  ');
}

/** Parse `90s`, `15m`, `2h`, `7d` or an ISO time into epoch ms (relative to `now`). */
export function parseSince(value: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/i.exec(value.trim());
  if (m) return now - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isFinite(t)) return t;
  throw new Error(`--since/--from must be a duration like 30m, 2h, 7d or an iso-8601 time, got ${JSON.stringify(value)}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Tail the bus through a temporary rule and queue; always removes them before returning (also on error).
 */
export async function tailEvents(c: TailClients, o: TailOptions): Promise<TailResult> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = o.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const ruleName = `${TAIL_PREFIX}${suffix}`;
  const queueName = `${TAIL_PREFIX}${suffix}`;
  let queueUrl = '';
  let ruleArn = '';
  let targetsAdded = false;
  let stopped = false;
  const seen = new Set<string>();
  const result: TailResult = { received: 0, distinct: 0, duplicates: 0, ruleName, queueUrl: '' };
  void o.stopSignal?.then(() => {
    stopped = true;
  });
  const deadline = o.timeoutMs ? Date.now() + o.timeoutMs : Infinity;

  try {
    // 1. temporary queue; only this rule may send to it.
    queueUrl = (
      await c.sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { MessageRetentionPeriod: '3600', SqsManagedSseEnabled: 'true' } }))
    ).QueueUrl!;
    result.queueUrl = queueUrl;
    const queueArn = (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    if (!queueArn) throw new Error(`queue ${queueUrl} has no QueueArn attribute`);
    // 2. temporary rule -> queue
    ruleArn = (
      await c.eventBridge.send(
        new PutRuleCommand({
          Name: ruleName,
          EventBusName: o.busName,
          EventPattern: JSON.stringify(tailPattern(o.detailTypes, o.decidedBy)),
          State: 'ENABLED',
          Description: 'temporary: distill-guard events tail',
        }),
      )
    ).RuleArn!;
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'tail',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
        },
      ],
    };
    await c.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
    await c.eventBridge.send(new PutTargetsCommand({ Rule: ruleName, EventBusName: o.busName, Targets: [{ Id: 'tail', Arn: queueArn }] }));
    targetsAdded = true;
    err(`tailing bus ${o.busName} (rule ${ruleName}); Ctrl-C to stop`);

    // 3. catch-up from the archive, into this rule only
    if (o.sinceMs !== undefined) {
      const bus = await c.eventBridge.send(new DescribeEventBusCommand({ Name: o.busName }));
      const archiveArn =
        o.archiveArn ??
        (await c.eventBridge.send(new ListArchivesCommand({ EventSourceArn: bus.Arn }))).Archives?.find((a) => a.State === 'ENABLED')?.ArchiveName;
      if (!archiveArn) throw new Error(`no enabled archive on bus ${o.busName} (${bus.Arn}); cannot replay --since`);
      const archiveFullArn = archiveArn.startsWith('arn:') ? archiveArn : bus.Arn!.replace(/:event-bus\/.*$/, `:archive/${archiveArn}`);
      const replayName = `${TAIL_PREFIX}${suffix}`;
      await c.eventBridge.send(
        new StartReplayCommand({
          ReplayName: replayName,
          EventSourceArn: archiveFullArn,
          EventStartTime: new Date(o.sinceMs),
          EventEndTime: new Date(),
          Destination: { Arn: bus.Arn!, FilterArns: [ruleArn] },
          Description: 'distill-guard events tail --since',
        }),
      );
      result.replayName = replayName;
      err(`replaying ${archiveArn} from ${new Date(o.sinceMs).toISOString()} into the tail rule (replay ${replayName})`);
    }
    await o.onReady?.({ ruleName, ruleArn, queueUrl });

    // 4. read until stopped
    while (!stopped && Date.now() < deadline && (o.maxEvents === undefined || result.distinct < o.maxEvents)) {
      const waitS = Math.max(0, Math.min(o.waitSeconds ?? 10, Math.ceil((deadline - Date.now()) / 1000)));
      const r = await c.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: Number.isFinite(waitS) ? waitS : 10 }),
      );
      const msgs = r.Messages ?? [];
      for (const m of msgs) {
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(m.Body ?? '') as Record<string, unknown>;
        } catch {
          err(`skipping a message that is not json: ${(m.Body ?? '').slice(0, 80)}`);
          continue;
        }
        result.received++;
        const id = String((e.detail as { eventId?: unknown } | undefined)?.eventId ?? e.id);
        const dup = seen.has(id);
        if (dup) result.duplicates++;
        else {
          seen.add(id);
          result.distinct++;
        }
        out(o.json ? JSON.stringify(e) : formatEvent(e, dup));
      }
      if (msgs.length)
        await c.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
        );
      if (!msgs.length && (o.waitSeconds ?? 10) === 0) await sleep(200);
    }
    return result;
  } finally {
    // 5. always clean up what we created
    const problems: string[] = [];
    if (targetsAdded)
      await c.eventBridge
        .send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: o.busName, Ids: ['tail'] }))
        .catch((e: Error) => problems.push(`remove targets: ${e.message}`));
    if (ruleArn)
      await c.eventBridge
        .send(new DeleteRuleCommand({ Name: ruleName, EventBusName: o.busName }))
        .catch((e: Error) => problems.push(`delete rule: ${e.message}`));
    if (queueUrl) await c.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch((e: Error) => problems.push(`delete queue: ${e.message}`));
    if (problems.length) err(`cleanup incomplete (run \`distill-guard events cleanup\`): ${problems.join('; ')}`);
    else err(`removed rule ${ruleName} and its queue (${result.distinct} event(s), ${result.duplicates} duplicate(s))`);
  }
}

/** Delete tail rules and queues left behind by a killed `events tail`. */
export async function cleanupTails(
  c: TailClients,
  busName: string,
  log: (l: string) => void = () => undefined,
): Promise<{ rules: number; queues: number }> {
  let rules = 0;
  let queues = 0;
  let next: string | undefined;
  do {
    const r = await c.eventBridge.send(new ListRulesCommand({ EventBusName: busName, NamePrefix: TAIL_PREFIX, NextToken: next }));
    for (const rule of r.Rules ?? []) {
      await c.eventBridge.send(new RemoveTargetsCommand({ Rule: rule.Name!, EventBusName: busName, Ids: ['tail'] })).catch(() => undefined);
      await c.eventBridge.send(new DeleteRuleCommand({ Name: rule.Name!, EventBusName: busName }));
      log(`deleted rule ${rule.Name}`);
      rules++;
    }
    next = r.NextToken;
  } while (next);
  const q = await c.sqs.send(new ListQueuesCommand({ QueueNamePrefix: TAIL_PREFIX }));
  for (const url of q.QueueUrls ?? []) {
    await c.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    log(`deleted queue ${url}`);
    queues++;
  }
  return { rules, queues };
}

// -------------------------------------------------------------------------------------------------------------
// Wiring: AWS or local
// -------------------------------------------------------------------------------------------------------------

interface LocalState {
  region: string;
  endpoints: { eventbridge?: string; sqs?: string };
  resources: { eventBusName?: string };
}

export function readLocalState(file: string): LocalState {
  if (!fs.existsSync(file)) throw new Error(`no local session state at ${file}: start the pipeline with \`npm start\` first (or pass --endpoints)`);
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as LocalState;
  if (!s.endpoints?.eventbridge || !s.endpoints?.sqs)
    throw new Error(`${file} has no eventbridge/sqs endpoints (got ${JSON.stringify(s.endpoints)})`);
  return s;
}

interface CommonOpts extends ConnOpts {
  bus?: string;
}

async function connect(o: CommonOpts): Promise<{ clients: TailClients; busName: string; local?: LocalState }> {
  const target = resolveTarget(o);
  if (target.local) {
    const s = readLocalState(target.endpoints);
    const creds = { accessKeyId: 'AKIALOCALDISTILLGUARD', secretAccessKey: 'local-secret-not-checked' };
    const clients = {
      eventBridge: new EventBridgeClient({ region: s.region, endpoint: s.endpoints.eventbridge, credentials: creds }),
      sqs: new SQSClient({ region: s.region, endpoint: s.endpoints.sqs, credentials: creds }),
    };
    const busName = o.bus ?? s.resources.eventBusName;
    if (!busName) throw new Error(`${target.endpoints} names no event bus; pass --bus`);
    return { clients, busName, local: s };
  }
  const clients = { eventBridge: new EventBridgeClient({ region: o.region }), sqs: new SQSClient({ region: o.region }) };
  return { clients, busName: o.bus ?? (await findBus(clients.eventBridge, o.stack ?? 'DistillGuard')) };
}

/** The ban-event bus of a deployed stack: CDK names it `<stack>...BanEventsBus<hash>`. */
async function findBus(eb: EventBridgeClient, stack: string): Promise<string> {
  const names: string[] = [];
  let next: string | undefined;
  do {
    const r = await eb.send(new ListEventBusesCommand({ NamePrefix: stack, NextToken: next }));
    names.push(...(r.EventBuses ?? []).map((b) => b.Name!).filter((n) => /BanEventsBus/.test(n)));
    next = r.NextToken;
  } while (next);
  if (names.length !== 1) {
    throw new Error(
      `cannot tell the ban-event bus of stack ${stack}: found ${names.length ? names.join(', ') : 'none'}; pass --bus <name> (stack output BanEventBusName)`,
    );
  }
  return names[0];
}

function stopOnSignals(): Promise<void> {
  return new Promise((resolve) => {
    const h = () => resolve();
    process.once('SIGINT', h);
    process.once('SIGTERM', h);
  });
}

const collect = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

function detailTypes(v: string, prev: string[] = []): string[] {
  const all = collect(v, prev);
  for (const t of all)
    if (!(DETAIL_TYPES as readonly string[]).includes(t)) throw new InvalidArgumentError(`expected ${DETAIL_TYPES.join(', ')}, got '${t}'`);
  return all;
}

export function register(program: Command): void {
  const events = program.command('events').description('watch and redeliver distill-guard ban events (docs/events.md)');
  const common = (c: Command) => {
    withTargetOptions(c, 'DistillGuard').option('--bus <name>', 'event bus name (default: found from the stack or the local session)');
    return deprecatedOption(c, '--state <file>', new Option('--endpoints <file>'));
  };
  const time = checked((v) => parseSince(v));

  common(events.command('tail'))
    .description('print ban events as they arrive, through a temporary rule + queue that is removed on exit')
    .option(
      '--since <time>',
      'first replay the archive from this time (30m, 2h, 7d or iso-8601) into the tail (AWS); locally: print the bus history since then',
      time,
    )
    .option('--detail-type <type>', `only these detail types (${DETAIL_TYPES.join(', ')}); repeatable or comma-separated`, detailTypes)
    .option('--decided-by <who>', 'only decisions by these deciders (auto or a reviewer id); repeatable', collect)
    .option('--max <n>', 'stop after n distinct events', positiveInt)
    .option('--timeout <seconds>', 'stop after this many seconds', positiveNumber)
    .option('--json', 'print each event as a JSON line')
    .action(
      async (o: CommonOpts & { since?: string; detailType?: string[]; decidedBy?: string[]; max?: number; timeout?: number; json?: boolean }) => {
        const { clients, busName, local } = await connect(o);
        const sinceMs = o.since ? parseSince(o.since) : undefined;
        if (local && sinceMs !== undefined) {
          // The local endpoint has no archive; it exposes the bus history instead.
          const res = await fetch(`${local.endpoints.eventbridge}/_local/events?bus=${encodeURIComponent(busName)}&after=0`);
          const body = (await res.json()) as { events: Array<{ event: Record<string, unknown> }> };
          const pattern = tailPattern(o.detailType, o.decidedBy);
          for (const { event } of body.events) {
            if (event.source !== EVENT_SOURCE || Date.parse(String(event.time)) < sinceMs) continue;
            if (pattern['detail-type'] && !(pattern['detail-type'] as string[]).includes(String(event['detail-type']))) continue;
            process.stdout.write(`${o.json ? JSON.stringify(event) : formatEvent(event)}\n`);
          }
        }
        await tailEvents(clients, {
          busName,
          detailTypes: o.detailType,
          decidedBy: o.decidedBy,
          sinceMs: local ? undefined : sinceMs,
          maxEvents: o.max,
          timeoutMs: o.timeout ? o.timeout * 1000 : undefined,
          json: o.json,
          stopSignal: stopOnSignals(),
        });
      },
    );

  const redeliver = (name: string, hidden: boolean) =>
    common(events.command(name, { hidden }))
      .description(
        'redeliver archived ban events onto the bus (an EventBridge replay to all rules, or only --rule ARNs); consumers de-duplicate on detail.eventId',
      )
      .requiredOption('--from <time>', 'start of the window (30m, 2h, 7d or iso-8601)', time)
      .option('--to <time>', 'end of the window (default now)', time)
      .option('--rule <arn>', 'redeliver only to these rules (FilterArns); repeatable', collect)
      .option('--archive <name>', 'archive name (default: the bus archive)')
      .option('--wait', 'wait for the replay to complete')
      .option('--json', 'print the replay started (and its final state with --wait) as JSON')
      .action(async (o: CommonOpts & { from: string; to?: string; rule?: string[]; archive?: string; wait?: boolean }) => {
        if (hidden) deprecationNotice('events replay', 'events redeliver');
        if (o.local || o.endpoints)
          throw new UsageError('the local eventbridge has no archive; events redeliver works against aws only (--stack/--region)');
        const { clients, busName } = await connect(o);
        const bus = await clients.eventBridge.send(new DescribeEventBusCommand({ Name: busName }));
        const archive =
          o.archive ?? (await clients.eventBridge.send(new ListArchivesCommand({ EventSourceArn: bus.Arn }))).Archives?.[0]?.ArchiveName;
        if (!archive) throw new Error(`no archive on bus ${busName}`);
        const archiveArn = bus.Arn!.replace(/:event-bus\/.*$/, `:archive/${archive}`);
        const name = `distill-guard-replay-${Date.now().toString(36)}`;
        const from = parseSince(o.from);
        const to = o.to ? parseSince(o.to) : Date.now();
        await clients.eventBridge.send(
          new StartReplayCommand({
            ReplayName: name,
            EventSourceArn: archiveArn,
            EventStartTime: new Date(from),
            EventEndTime: new Date(to),
            Destination: { Arn: bus.Arn!, FilterArns: o.rule },
          }),
        );
        const started = {
          replayName: name,
          archive,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          bus: busName,
          rules: o.rule ?? null,
        };
        if (!o.json)
          process.stdout.write(
            `started replay ${name}: ${archive} ${started.from} .. ${started.to} -> ${o.rule?.join(', ') ?? `every rule on ${busName}`}\n`,
          );
        let state: string | undefined;
        while (o.wait) {
          const r = await clients.eventBridge.send(new DescribeReplayCommand({ ReplayName: name }));
          state = r.State;
          process.stderr.write(
            `replay ${name}: ${r.State}${r.EventLastReplayedTime ? ` (last replayed ${r.EventLastReplayedTime.toISOString()})` : ''}\n`,
          );
          if (r.State === 'COMPLETED') break;
          if (r.State === 'FAILED' || r.State === 'CANCELLED') throw new Error(`replay ${name} ended ${r.State}: ${r.StateReason ?? ''}`);
          await sleep(10000);
        }
        if (o.json) process.stdout.write(`${JSON.stringify({ ...started, state: state ?? 'STARTING' })}\n`);
      });
  redeliver('redeliver', false);
  redeliver('replay', true);

  common(events.command('cleanup'))
    .description('delete temporary tail rules and queues left by an interrupted `events tail`')
    .option('--json', 'print the counts removed as JSON')
    .action(async (o: CommonOpts) => {
      const { clients, busName } = await connect(o);
      const r = await cleanupTails(clients, busName, (l) => (o.json ? process.stderr : process.stdout).write(`${l}\n`));
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `removed ${r.rules} rule(s) and ${r.queues} queue(s)\n`);
    });
}
