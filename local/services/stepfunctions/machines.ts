/**
 * The state machines: definitions checked and compiled once, with what executions need to know about their
 * states (the Task states with their original settings, the states that Retry or Wait, for test overrides).
 */
import { AwsServiceError } from '../aws-http';
import { AslStateMachine, captureTimeoutErrorClass } from './asl';
import { checkDistributedMap, isDistributedMap, wrapDistributedChildren } from './distributed-map';
import { MAX_TIMER_SECONDS } from './types';

export interface TaskStateDef {
  Type: 'Task';
  Resource: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  HeartbeatSecondsPath?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[] }>;
}

export interface MachineRecord {
  name: string;
  arn: string;
  definition: string;
  roleArn?: string;
  type: string;
  creationDate: Date;
  machine: AslStateMachine;
  tasks: Map<string, TaskStateDef>;
  retryStates: string[];
  waitStates: string[];
}

function walkStates(states: Record<string, unknown>, visit: (name: string, def: Record<string, unknown>) => void): void {
  for (const [name, def] of Object.entries(states ?? {})) {
    const d = def as Record<string, unknown>;
    visit(name, d);
    if (d.Type === 'Parallel') for (const b of (d.Branches as Array<{ States: Record<string, unknown> }>) ?? []) walkStates(b.States, visit);
    if (d.Type === 'Map') {
      const proc = (d.ItemProcessor ?? d.Iterator) as { States: Record<string, unknown> } | undefined;
      if (proc) walkStates(proc.States, visit);
    }
  }
}

function parseDefinition(definition: string): Record<string, unknown> {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(definition) as Record<string, unknown>;
  } catch {
    throw new AwsServiceError(
      'InvalidDefinition',
      `Invalid State Machine Definition: definition is not valid json: ${JSON.stringify(definition.slice(0, 80))}`,
    );
  }
  if (parsed.QueryLanguage === 'JSONata')
    throw new AwsServiceError('InvalidDefinition', 'JSONata state machines are not supported locally (aws-local-stepfunctions runs JSONPath)');
  return parsed;
}

export interface StateMachineRegistryOptions {
  readonly region: string;
  readonly accountId: string;
  /** Timeout given to Task states that set none. */
  readonly defaultTaskTimeoutSeconds: number;
  readonly validateDefinitions: boolean;
}

/** State machines by ARN. */
export class StateMachineRegistry {
  private readonly machines = new Map<string, MachineRecord>();

  constructor(private readonly opts: StateMachineRegistryOptions) {}

  arn(name: string): string {
    return `arn:aws:states:${this.opts.region}:${this.opts.accountId}:stateMachine:${name}`;
  }

  executionArn(machineName: string, executionName: string): string {
    return `arn:aws:states:${this.opts.region}:${this.opts.accountId}:execution:${machineName}:${executionName}`;
  }

  defaultRoleArn(): string {
    return `arn:aws:iam::${this.opts.accountId}:role/local`;
  }

  get(arn: string): MachineRecord | undefined {
    return this.machines.get(arn);
  }

  has(arn: string): boolean {
    return this.machines.has(arn);
  }

  /** The machine, or StateMachineDoesNotExist. */
  require(arn: string): MachineRecord {
    const m = this.machines.get(arn);
    if (!m) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return m;
  }

  list(): MachineRecord[] {
    return [...this.machines.values()];
  }

  delete(arn: string): void {
    this.machines.delete(arn);
  }

  /** Create a state machine, or return the existing one when name, definition and role are the same. */
  create(name: string, definitionRaw: string | object, roleArn?: string, type = 'STANDARD'): MachineRecord {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new AwsServiceError('InvalidName', `invalid state machine name: ${JSON.stringify(name)}`);
    const definition = typeof definitionRaw === 'string' ? definitionRaw : JSON.stringify(definitionRaw);
    const arn = this.arn(name);
    const existing = this.machines.get(arn);
    if (existing) {
      if (existing.definition === definition && existing.roleArn === roleArn) return existing;
      throw new AwsServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    parseDefinition(definition);
    // The interpreter's copy: give every Task a long default timeout (the library's is 60 s).
    const runDef = JSON.parse(definition) as Record<string, unknown>;
    const { tasks, retryStates, waitStates } = this.prepareStates(runDef);
    let machine: AslStateMachine;
    try {
      machine = new AslStateMachine(runDef as never, { validationOptions: { noValidate: this.opts.validateDefinitions === false } });
    } catch (err) {
      throw new AwsServiceError('InvalidDefinition', `Invalid State Machine Definition: ${String((err as Error).message).slice(0, 2000)}`);
    }
    const rec: MachineRecord = { name, arn, definition, roleArn, type, creationDate: new Date(), machine, tasks, retryStates, waitStates };
    if ([...tasks.values()].some((t) => t.HeartbeatSeconds !== undefined)) void captureTimeoutErrorClass();
    this.machines.set(arn, rec);
    return rec;
  }

  /** Record the Task, Retry and Wait states, and set the interpreter's task timeouts (in place). */
  private prepareStates(runDef: Record<string, unknown>): Pick<MachineRecord, 'tasks' | 'retryStates' | 'waitStates'> {
    const defaultTimeout = this.opts.defaultTaskTimeoutSeconds;
    const tasks = new Map<string, TaskStateDef>();
    const retryStates: string[] = [];
    const waitStates: string[] = [];
    // Distributed maps first: their children's states are wrapped, then walked below like any others.
    walkStates(runDef.States as Record<string, unknown>, (stateName, d) => {
      if (!isDistributedMap(d)) return;
      checkDistributedMap(stateName, d);
      wrapDistributedChildren(stateName, d);
    });
    walkStates(runDef.States as Record<string, unknown>, (stateName, d) => {
      if (d.Retry) retryStates.push(stateName);
      if (d.Type === 'Wait') waitStates.push(stateName);
      if (d.Type !== 'Task') return;
      tasks.set(stateName, JSON.parse(JSON.stringify(d)) as TaskStateDef);
      if (d.TimeoutSeconds === undefined && d.TimeoutSecondsPath === undefined) d.TimeoutSeconds = defaultTimeout;
      else if (typeof d.TimeoutSeconds === 'number' && d.TimeoutSeconds > MAX_TIMER_SECONDS) d.TimeoutSeconds = MAX_TIMER_SECONDS;
    });
    return { tasks, retryStates, waitStates };
  }
}
