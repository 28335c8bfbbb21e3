/** The buses and rules (with their targets and parsed patterns), keyed by bus name and rule name. */
import { AwsServiceError } from '../aws-http';
import { EventPattern, InvalidEventPatternError, matchesEventPattern, parseEventPattern } from '../event-pattern';
import { EventEnvelope, RuleDefinition } from './types';

export interface BusRecord {
  Name: string;
  Arn: string;
  Description?: string;
  Policy?: string;
  CreationTime: number;
  KmsKeyIdentifier?: string;
}

/** A bus name from a name or a bus ARN (`default` when absent). */
export function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  const m = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? m[1] : nameOrArn;
}

/** Parse a rule's pattern, as InvalidEventPatternException when it is not valid. */
export function parsePatternOrThrow(eventPattern: string): EventPattern {
  try {
    return parseEventPattern(eventPattern);
  } catch (err) {
    if (err instanceof InvalidEventPatternError)
      throw new AwsServiceError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${err.message}`);
    throw err;
  }
}

const key = (bus: string, name: string) => `${bus}\u0000${name}`;

export class BusRegistry {
  readonly buses = new Map<string, BusRecord>();
  private readonly rules = new Map<string, RuleDefinition>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {
    this.buses.set('default', { Name: 'default', Arn: this.busArn('default'), CreationTime: Date.now() / 1000 });
  }

  busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:event-bus/${name}`;
  }

  ruleArn(bus: string, name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;
  }

  /** The bus name, or ResourceNotFoundException when no such bus exists. */
  requireBus(busRaw: unknown): string {
    const bus = busNameOf(busRaw as string | undefined);
    if (!this.buses.has(bus)) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
    return bus;
  }

  deleteBus(name: string): void {
    this.buses.delete(name);
    for (const [k, r] of this.rules) if (r.EventBusName === name) this.rules.delete(k);
  }

  findRule(bus: string, name: string): RuleDefinition | undefined {
    return this.rules.get(key(bus, name));
  }

  /** The rule, or ResourceNotFoundException. */
  getRule(busRaw: unknown, nameRaw: unknown): RuleDefinition {
    const bus = busNameOf(busRaw as string | undefined);
    const r = this.rules.get(key(bus, String(nameRaw)));
    if (!r) throw new AwsServiceError('ResourceNotFoundException', `Rule ${String(nameRaw)} does not exist on EventBus ${bus}.`);
    return r;
  }

  setRule(rule: RuleDefinition): void {
    this.rules.set(key(rule.EventBusName, rule.Name), rule);
  }

  deleteRule(bus: string, name: string): void {
    this.rules.delete(key(bus, name));
  }

  allRules(): RuleDefinition[] {
    return [...this.rules.values()];
  }

  /** The enabled pattern rules of `bus` that match the event, in the order they were created (lazily, as the caller delivers). */
  *matching(bus: string, event: EventEnvelope): Generator<RuleDefinition> {
    for (const rule of this.rules.values()) {
      if (rule.EventBusName !== bus || rule.State === 'DISABLED' || !rule.pattern) continue;
      if (matchesEventPattern(rule.pattern, event)) yield rule;
    }
  }
}
