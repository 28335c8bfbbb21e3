/**
 * The wire API: the EventBridge operations of the AWS JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`),
 * plus `GET /_local/events?bus=NAME&after=SEQ`, a read-only view of the activity log for `distill-guard events
 * tail` in another process.
 */
import * as http from 'http';
import { AwsServiceError, JsonOperation, jsonProtocolHandler, optionalString, requireString } from '../aws-http';
import { EventPattern, InvalidEventPatternError, matchesEventPattern, parseEventPattern } from '../event-pattern';
import { ActivityLog } from './activity-log';
import { EventIngest, FailureInjector, MAX_ENTRY_BYTES } from './put-events';
import { BusRegistry, busNameOf, parsePatternOrThrow } from './registry';
import { PutEventsEntry, RuleDefinition, TargetDefinition } from './types';

type Operations = Record<string, JsonOperation>;
type FailedTarget = { TargetId?: string; ErrorCode: string; ErrorMessage: string };

function busOperations(registry: BusRegistry): Operations {
  return {
    CreateEventBus: (input) => {
      const name = requireString(input, 'Name');
      if (name === 'default' || registry.buses.has(name))
        throw new AwsServiceError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
      if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) throw new AwsServiceError('ValidationException', `invalid event bus name ${JSON.stringify(name)}`);
      registry.buses.set(name, {
        Name: name,
        Arn: registry.busArn(name),
        Description: optionalString(input, 'Description'),
        KmsKeyIdentifier: optionalString(input, 'KmsKeyIdentifier'),
        CreationTime: Date.now() / 1000,
      });
      return { EventBusArn: registry.busArn(name) };
    },
    DescribeEventBus: (input) => {
      const b = registry.buses.get(registry.requireBus(input.Name))!;
      return {
        Name: b.Name,
        Arn: b.Arn,
        Description: b.Description,
        Policy: b.Policy,
        KmsKeyIdentifier: b.KmsKeyIdentifier,
        CreationTime: b.CreationTime,
        LastModifiedTime: b.CreationTime,
      };
    },
    ListEventBuses: (input) => {
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      return {
        EventBuses: [...registry.buses.values()]
          .filter((b) => b.Name.startsWith(prefix))
          .map((b) => ({ Name: b.Name, Arn: b.Arn, CreationTime: b.CreationTime })),
      };
    },
    DeleteEventBus: (input) => {
      const name = requireString(input, 'Name');
      if (name === 'default') throw new AwsServiceError('ValidationException', 'cannot delete event bus default.');
      registry.deleteBus(name);
      return {};
    },
    PutPermission: (input) => {
      const bus = registry.requireBus(input.EventBusName);
      if (typeof input.Policy === 'string') registry.buses.get(bus)!.Policy = input.Policy;
      return {};
    },
  };
}

function putRule(registry: BusRegistry, input: Record<string, unknown>): { RuleArn: string } {
  const name = requireString(input, 'Name');
  const bus = registry.requireBus(input.EventBusName);
  const eventPattern = optionalString(input, 'EventPattern');
  const schedule = optionalString(input, 'ScheduleExpression');
  if (!eventPattern && !schedule)
    throw new AwsServiceError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
  const pattern: EventPattern | undefined = eventPattern ? parsePatternOrThrow(eventPattern) : undefined;
  const state = (optionalString(input, 'State') ?? 'ENABLED') as RuleDefinition['State'];
  if (!['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'].includes(state))
    throw new AwsServiceError('ValidationException', `invalid State ${JSON.stringify(state)}`);
  const existing = registry.findRule(bus, name);
  const rule: RuleDefinition = {
    Name: name,
    Arn: registry.ruleArn(bus, name),
    EventBusName: bus,
    EventPattern: eventPattern,
    ScheduleExpression: schedule,
    State: state,
    Description: optionalString(input, 'Description'),
    RoleArn: optionalString(input, 'RoleArn'),
    targets: existing?.targets ?? new Map(),
    pattern,
  };
  registry.setRule(rule);
  return { RuleArn: rule.Arn };
}

function ruleOperations(registry: BusRegistry): Operations {
  return {
    PutRule: (input) => putRule(registry, input),
    DescribeRule: (input) => {
      const r = registry.getRule(input.EventBusName, requireString(input, 'Name'));
      const { Name, Arn, EventPattern, ScheduleExpression, State, Description, RoleArn, EventBusName } = r;
      return { Name, Arn, EventPattern, ScheduleExpression, State, Description, RoleArn, EventBusName };
    },
    ListRules: (input) => {
      const bus = registry.requireBus(input.EventBusName);
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      return {
        Rules: registry
          .allRules()
          .filter((r) => r.EventBusName === bus && r.Name.startsWith(prefix))
          .map(({ Name, Arn, EventPattern, ScheduleExpression, State, Description, EventBusName }) => ({
            Name,
            Arn,
            EventPattern,
            ScheduleExpression,
            State,
            Description,
            EventBusName,
          })),
      };
    },
    EnableRule: (input) => {
      registry.getRule(input.EventBusName, requireString(input, 'Name')).State = 'ENABLED';
      return {};
    },
    DisableRule: (input) => {
      registry.getRule(input.EventBusName, requireString(input, 'Name')).State = 'DISABLED';
      return {};
    },
    DeleteRule: (input) => {
      const bus = busNameOf(input.EventBusName as string | undefined);
      const name = requireString(input, 'Name');
      const r = registry.findRule(bus, name);
      if (r && r.targets.size > 0 && !input.Force) throw new AwsServiceError('ValidationException', `Rule can't be deleted since it has targets.`);
      registry.deleteRule(bus, name);
      return {};
    },
    TestEventPattern: (input) => {
      const pattern = requireString(input, 'EventPattern');
      const event = requireString(input, 'Event');
      try {
        return { Result: matchesEventPattern(parseEventPattern(pattern), JSON.parse(event)) };
      } catch (err) {
        if (err instanceof InvalidEventPatternError)
          throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${err.message}`);
        throw new AwsServiceError('ValidationException', `event is not valid json`);
      }
    },
  };
}

/** Why PutTargets refuses a target, or undefined when the rule takes it. */
function targetRefusal(rule: RuleDefinition, t: TargetDefinition): FailedTarget | undefined {
  if (!t || typeof t.Id !== 'string' || typeof t.Arn !== 'string' || !t.Arn.startsWith('arn:'))
    return { TargetId: t?.Id, ErrorCode: 'ValidationException', ErrorMessage: `target needs an Id and an Arn, got ${JSON.stringify(t)}` };
  if (t.Input !== undefined) {
    try {
      JSON.parse(t.Input);
    } catch {
      return { TargetId: t.Id, ErrorCode: 'ValidationException', ErrorMessage: `Input is not valid json: ${t.Input}` };
    }
  }
  if (!rule.targets.has(t.Id) && rule.targets.size >= 5)
    return { TargetId: t.Id, ErrorCode: 'LimitExceededException', ErrorMessage: 'a rule can have at most 5 targets' };
  return undefined;
}

function targetOperations(registry: BusRegistry): Operations {
  return {
    PutTargets: (input) => {
      const r = registry.getRule(input.EventBusName, requireString(input, 'Rule'));
      const targets = input.Targets;
      if (!Array.isArray(targets) || targets.length < 1 || targets.length > 10)
        throw new AwsServiceError('ValidationException', `Targets must hold 1 to 10 targets, got ${JSON.stringify(targets)?.slice(0, 80)}`);
      const failed: FailedTarget[] = [];
      for (const t of targets as TargetDefinition[]) {
        const refusal = targetRefusal(r, t);
        if (refusal) failed.push(refusal);
        else r.targets.set(t.Id, { ...t });
      }
      return { FailedEntryCount: failed.length, FailedEntries: failed };
    },
    ListTargetsByRule: (input) => ({ Targets: [...registry.getRule(input.EventBusName, requireString(input, 'Rule')).targets.values()] }),
    RemoveTargets: (input) => {
      const r = registry.getRule(input.EventBusName, requireString(input, 'Rule'));
      const ids = Array.isArray(input.Ids) ? (input.Ids as string[]) : [];
      const failed: FailedTarget[] = [];
      for (const id of ids) {
        if (!r.targets.delete(id))
          failed.push({ TargetId: id, ErrorCode: 'ResourceNotFoundException', ErrorMessage: `target ${id} not found on rule ${r.Name}` });
      }
      return { FailedEntryCount: failed.length, FailedEntries: failed };
    },
    ListRuleNamesByTarget: (input) => {
      const arn = requireString(input, 'TargetArn');
      const bus = busNameOf(input.EventBusName as string | undefined);
      return {
        RuleNames: registry
          .allRules()
          .filter((r) => r.EventBusName === bus && [...r.targets.values()].some((t) => t.Arn === arn))
          .map((r) => r.Name),
      };
    },
  };
}

function putEventsOperation(ingest: EventIngest, failures: FailureInjector): JsonOperation {
  return (input) => {
    failures.checkRequest();
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10, got ${Array.isArray(entries) ? entries.length : JSON.stringify(entries)}`,
      );
    }
    const total = Buffer.byteLength(JSON.stringify(entries));
    if (total > MAX_ENTRY_BYTES)
      throw new AwsServiceError('ValidationException', `total size of the entries is ${total} bytes, larger than the 256 KB limit`);
    return ingest.accept(entries as PutEventsEntry[], true);
  };
}

/** The request listener of the local EventBridge endpoint. */
export function eventBridgeHandler(registry: BusRegistry, ingest: EventIngest, failures: FailureInjector, log: ActivityLog): http.RequestListener {
  const operations: Operations = {
    ...busOperations(registry),
    PutEvents: putEventsOperation(ingest, failures),
    ...ruleOperations(registry),
    ...targetOperations(registry),
  };
  const awsHandler = jsonProtocolHandler({ targetPrefix: 'AWSEvents', jsonVersion: '1.1', operations });
  return (req, res) => {
    // Non-AWS read-only helper for `distill-guard events tail` in another process.
    if (req.method === 'GET' && req.url?.startsWith('/_local/events')) {
      const u = new URL(req.url, 'http://local');
      const bus = u.searchParams.get('bus') ?? undefined;
      const after = Number(u.searchParams.get('after') ?? '0');
      const body = JSON.stringify({ events: log.events(bus, after), deliveries: log.deliveredAfter(after, bus) });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    awsHandler(req, res);
  };
}
