/**
 * PutEvents: each entry is validated as EventBridge does (per-entry errors, not a failed call), wrapped in the
 * event envelope, logged on its bus and routed to the matching rules. The test hooks that make entries or whole
 * calls fail live here too.
 */
import { randomUUID } from 'crypto';
import { AwsServiceError } from '../aws-http';
import { ActivityLog } from './activity-log';
import { TargetDelivery } from './delivery';
import { BusRegistry, busNameOf } from './registry';
import { BusEventRecord, EventEnvelope, FailureInjection, PutEventsEntry, PutEventsResult } from './types';

export const MAX_ENTRY_BYTES = 256 * 1024;

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

type EntryError = { code: string; message: string };

function validateFields(e: PutEventsEntry): EntryError | { detail: Record<string, unknown> } {
  if (!e || typeof e !== 'object') return { code: 'InvalidArgument', message: 'entry must be an object' };
  const size = Buffer.byteLength(JSON.stringify(e));
  if (size > MAX_ENTRY_BYTES) return { code: 'InvalidArgument', message: `entry is ${size} bytes, larger than the 256 KB limit` };
  if (typeof e.Source !== 'string' || !e.Source)
    return { code: 'InvalidArgument', message: 'Parameter Source is not valid. Reason: Source is a required argument.' };
  if (e.Source.startsWith('aws.'))
    return { code: 'InvalidArgument', message: `Parameter Source is not valid. Reason: source ${e.Source} is reserved for aws services.` };
  if (typeof e.DetailType !== 'string' || !e.DetailType)
    return { code: 'InvalidArgument', message: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' };
  if (typeof e.Detail !== 'string' || !e.Detail)
    return { code: 'InvalidArgument', message: 'Parameter Detail is not valid. Reason: Detail is a required argument.' };
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail);
  } catch {
    return { code: 'MalformedDetail', message: 'Detail is malformed.' };
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail))
    return { code: 'MalformedDetail', message: 'Detail is malformed: it must be a json object.' };
  if (e.Resources !== undefined && (!Array.isArray(e.Resources) || e.Resources.some((r) => typeof r !== 'string'))) {
    return { code: 'InvalidArgument', message: 'Parameter Resources is not valid: must be a list of strings.' };
  }
  return { detail: detail as Record<string, unknown> };
}

/** The test hooks: failing entries (partial failure) and failing whole calls (total failure). */
export class FailureInjector {
  private injection: (FailureInjection & { remaining?: number }) | undefined;
  private failRequests = 0;
  private failRequestsCode = 'InternalException';

  injectFailures(inj: FailureInjection): void {
    this.injection = { ...inj, remaining: inj.count };
  }

  failNextRequests(n: number, code = 'InternalException'): void {
    this.failRequests = n;
    this.failRequestsCode = code;
  }

  clear(): void {
    this.injection = undefined;
    this.failRequests = 0;
  }

  /** Throws the injected 500 when a whole call is to fail. */
  checkRequest(): void {
    if (this.failRequests > 0) {
      this.failRequests--;
      throw new AwsServiceError(this.failRequestsCode, 'injected request failure (local test hook)', 500);
    }
  }

  /** The injected error for this entry, if it is to fail. */
  entryFailure(e: PutEventsEntry, i: number): { ErrorCode: string; ErrorMessage: string } | undefined {
    const injection = this.injection;
    if (!injection) return undefined;
    const byPredicate = injection.predicate ? injection.predicate(e, i) : true;
    const budget = injection.remaining === undefined || injection.remaining > 0;
    if (!byPredicate || !budget) return undefined;
    if (injection.remaining !== undefined) injection.remaining--;
    const failure = {
      ErrorCode: injection.errorCode ?? 'InternalFailure',
      ErrorMessage: injection.errorMessage ?? 'injected failure (local test hook)',
    };
    if (injection.remaining === 0) this.injection = undefined;
    return failure;
  }
}

export class EventIngest {
  constructor(
    private readonly region: string,
    private readonly account: string,
    private readonly registry: BusRegistry,
    private readonly log: ActivityLog,
    private readonly failures: FailureInjector,
    private readonly delivery: TargetDelivery,
  ) {}

  /** Accept entries onto their buses; `injectable` entries are subject to the failure injection. */
  accept(entries: PutEventsEntry[], injectable: boolean): PutEventsResult {
    const out: PutEventsResult['Entries'] = [];
    let failed = 0;
    entries.forEach((e, i) => {
      const v = this.validate(e);
      if ('code' in v) {
        failed++;
        out.push({ ErrorCode: v.code, ErrorMessage: v.message });
        return;
      }
      const injected = injectable ? this.failures.entryFailure(e, i) : undefined;
      if (injected) {
        failed++;
        out.push(injected);
        return;
      }
      out.push({ EventId: this.publish(v.bus, this.envelope(e, v.detail)) });
    });
    return { FailedEntryCount: failed, Entries: out };
  }

  /** Log the event on its bus and deliver it to the matching rules; returns its id. */
  private publish(bus: string, event: EventEnvelope): string {
    const matchedRules: string[] = [];
    for (const rule of this.registry.matching(bus, event)) {
      matchedRules.push(rule.Name);
      this.delivery.deliver(rule, event);
    }
    const record: BusEventRecord = { seq: this.log.nextSeq(), busName: bus, event, matchedRules };
    this.log.recordEvent(record);
    return event.id;
  }

  private envelope(e: PutEventsEntry, detail: Record<string, unknown>): EventEnvelope {
    const t = e.Time === undefined ? new Date() : new Date(typeof e.Time === 'number' ? e.Time * 1000 : e.Time);
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': e.DetailType!,
      source: e.Source!,
      account: this.account,
      time: isoSeconds(Number.isNaN(t.getTime()) ? new Date() : t),
      region: this.region,
      resources: e.Resources ?? [],
      detail,
    };
  }

  private validate(e: PutEventsEntry): EntryError | { bus: string; detail: Record<string, unknown> } {
    const v = validateFields(e);
    if ('code' in v) return v;
    const bus = busNameOf(e.EventBusName);
    if (!this.registry.buses.has(bus)) return { code: 'ResourceNotFoundException', message: `Event bus ${bus} does not exist.` };
    return { bus, detail: v.detail };
  }
}
