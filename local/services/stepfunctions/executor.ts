/**
 * Runs executions: starts the interpreter on a state machine with the execution's context, routes each Task
 * state to a custom handler or a service integration (and, for `.waitForTaskToken`, to the token registry), and
 * turns the interpreter's result into the execution's final status.
 */
import { randomUUID } from 'crypto';
import { AwsServiceError } from '../aws-http';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } from './asl';
import { ExecutionRecord, ExecutionStore, recordHistory } from './executions';
import { ServiceIntegrations } from './integrations';
import { MachineRecord, StateMachineRegistry, TaskStateDef } from './machines';
import { TaskTokenRegistry } from './task-tokens';
import { JsonValue, TaskContext, TaskHandler } from './types';

/** Placeholder put in the context as `$$.Task.Token`; replaced by the real token inside the task input. */
const TOKEN_PLACEHOLDER = '__DISTILL_GUARD_LOCAL_TASK_TOKEN__';

// eslint-disable-next-line no-control-regex -- execution names must not contain control characters
const EXEC_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

function replaceToken<T>(v: T, token: string): T {
  if (typeof v === 'string') return (v.includes(TOKEN_PLACEHOLDER) ? v.split(TOKEN_PLACEHOLDER).join(token) : v) as T;
  if (Array.isArray(v)) return v.map((x) => replaceToken(x, token)) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceToken(x, token)])) as T;
  return v;
}

/** Set the final status of an execution from how the interpreter's run ended. */
function settle(exec: ExecutionRecord, err: unknown): void {
  if (err instanceof ExecutionAbortedError || exec.stopRequested) {
    exec.status = 'ABORTED';
    exec.error = exec.stopRequested?.error;
    exec.cause = exec.stopRequested?.cause;
  } else if (err instanceof ExecutionTimeoutError) {
    exec.status = 'TIMED_OUT';
    exec.error = 'States.Timeout';
  } else if (err instanceof ExecutionError) {
    const inner = (err as Error & { cause?: Error }).cause;
    exec.status = 'FAILED';
    exec.error = inner?.name ?? 'States.Runtime';
    exec.cause = inner?.message ?? err.message;
  } else {
    exec.status = 'FAILED';
    exec.error = 'States.Runtime';
    exec.cause = String((err as Error)?.message ?? err);
  }
}

function parseInput(input: string): JsonValue {
  try {
    return JSON.parse(input) as JsonValue;
  } catch {
    throw new AwsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: ${JSON.stringify(input.slice(0, 80))}`);
  }
}

export interface ExecutionRunnerDeps {
  readonly machines: StateMachineRegistry;
  readonly executions: ExecutionStore;
  readonly tokens: TaskTokenRegistry;
  readonly integrations: ServiceIntegrations;
  readonly taskHandlers: Map<string, TaskHandler>;
  readonly retryIntervalMs?: number;
  readonly waitTimeMs?: number;
}

export class ExecutionRunner {
  constructor(private readonly deps: ExecutionRunnerDeps) {}

  /** StartExecution: same name and input while RUNNING returns the running execution. */
  start(stateMachineArn: string, inputRaw: string | object | undefined, nameRaw: string | undefined): ExecutionRecord {
    const { machines, executions } = this.deps;
    const m = machines.require(stateMachineArn);
    const input = inputRaw === undefined ? '{}' : typeof inputRaw === 'string' ? inputRaw : JSON.stringify(inputRaw);
    const parsedInput = parseInput(input);
    const name = nameRaw ?? randomUUID();
    if (!EXEC_NAME.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const arn = machines.executionArn(m.name, name);
    const existing = executions.find(arn);
    if (existing) {
      // AWS: same name + same input while RUNNING returns the original execution; otherwise ExecutionAlreadyExists.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const exec: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
      history: [],
      done: Promise.resolve(),
    };
    executions.add(exec);
    this.run(m, exec, parsedInput);
    return exec;
  }

  /** StopExecution: abort the run and fail its waiting tasks. A no-op once the execution has ended. */
  stop(arn: string, error?: string, cause?: string): void {
    const e = this.deps.executions.get(arn);
    if (e.status !== 'RUNNING') return;
    e.stopRequested = { error, cause };
    e.abort?.();
    this.deps.tokens.abortExecution(arn);
  }

  private run(m: MachineRecord, exec: ExecutionRecord, parsedInput: JsonValue): void {
    const { retryIntervalMs, waitTimeMs, tokens } = this.deps;
    const retryIntervalOverrides = retryIntervalMs !== undefined ? Object.fromEntries(m.retryStates.map((s) => [s, retryIntervalMs])) : undefined;
    const waitTimeOverrides = waitTimeMs !== undefined ? Object.fromEntries(m.waitStates.map((s) => [s, waitTimeMs])) : undefined;
    const run = m.machine.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: this.taskHandlersFor(m, exec) as never, retryIntervalOverrides, waitTimeOverrides },
      context: {
        Execution: {
          Id: exec.executionArn,
          Name: exec.name,
          RoleArn: m.roleArn ?? this.deps.machines.defaultRoleArn(),
          StartTime: exec.startDate.toISOString(),
        },
        StateMachine: { Id: m.arn, Name: m.name },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    exec.abort = run.abort;
    const events = recordHistory(exec, m, run.eventLogs as unknown as AsyncGenerator<Record<string, unknown>>).catch(() => undefined);
    exec.done = run.result
      .then(
        (output) => {
          exec.status = 'SUCCEEDED';
          exec.output = JSON.stringify(output ?? null);
        },
        (err: unknown) => settle(exec, err),
      )
      .then(async () => {
        exec.stopDate = new Date();
        tokens.expireExecution(exec.executionArn);
        // give the event consumer a moment to drain the library's log
        await Promise.race([events, new Promise((r) => setTimeout(r, 50))]);
        tokens.notify();
      });
  }

  /** The interpreter's local handler for each Task state of the machine, bound to one execution. */
  private taskHandlersFor(m: MachineRecord, exec: ExecutionRecord): Record<string, (input: JsonValue) => Promise<JsonValue>> {
    const out: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    for (const [stateName, def] of m.tasks) out[stateName] = (rawInput) => this.runTask(m, exec, stateName, def, rawInput);
    return out;
  }

  private async runTask(m: MachineRecord, exec: ExecutionRecord, stateName: string, def: TaskStateDef, rawInput: JsonValue): Promise<JsonValue> {
    const { tokens, taskHandlers, integrations } = this.deps;
    const resource = def.Resource;
    const waits = resource.endsWith('.waitForTaskToken');
    const base = waits ? resource.slice(0, -'.waitForTaskToken'.length) : resource;
    const token = waits ? TaskTokenRegistry.newToken() : undefined;
    const input = replaceToken(rawInput, token ?? '');
    const ctx: TaskContext = {
      executionArn: exec.executionArn,
      executionName: exec.name,
      stateMachineArn: m.arn,
      stateName,
      resource,
      ...(token ? { taskToken: token } : {}),
    };
    const wait = token ? tokens.open(token, { executionArn: exec.executionArn, stateName, resource, input }, def) : undefined;
    try {
      const custom = taskHandlers.get(stateName) ?? taskHandlers.get(resource) ?? taskHandlers.get(base);
      const result = custom ? await custom(input, ctx) : await integrations.integrate(base, input, ctx);
      if (!wait) return (result ?? null) as JsonValue;
      tokens.notify();
    } catch (err) {
      if (token) tokens.expire(token);
      throw err;
    }
    return (await wait) as JsonValue;
  }
}
