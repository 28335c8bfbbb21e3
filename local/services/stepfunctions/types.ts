/** The public types of the local Step Functions service, shared by its parts (see ../stepfunctions.ts). */
import { LocalEndpoint } from '../aws-http';
import { LocalService } from '../clients';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Context given to Lambda invokers and custom task handlers. */
export interface TaskContext {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly stateName: string;
  /** The Task state's Resource (with any `.waitForTaskToken` suffix). */
  readonly resource: string;
  /** Set for `.waitForTaskToken` states (already substituted for `$$.Task.Token` in the input). */
  readonly taskToken?: string;
}

/**
 * Invokes a Lambda function locally. Return the function's result; throw an Error whose `name` is the Lambda
 * `errorType` (e.g. `Error`, `ValidationError`) to fail the task.
 */
export type LambdaInvoker = (functionNameOrArn: string, payload: unknown, ctx: TaskContext) => Promise<unknown>;

/**
 * Replaces the integration call of a Task state. For `.waitForTaskToken` states the execution still waits for
 * SendTaskSuccess / SendTaskFailure on `ctx.taskToken` after the handler returns.
 */
export type TaskHandler = (input: unknown, ctx: TaskContext) => Promise<unknown> | unknown;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface HistoryEvent {
  timestamp: number;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

export interface ExecutionView {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** A task waiting for SendTaskSuccess / SendTaskFailure. */
export interface PendingTask {
  readonly taskToken: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly resource: string;
  readonly input: unknown;
  readonly since: Date;
}

export interface LocalStepFunctionsOptions {
  /** @default a free port */
  readonly port?: number;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Lambda invoker (settable later with `setLambdaInvoker`). */
  readonly invokeLambda?: LambdaInvoker;
  /** Custom handlers keyed by state name or by Resource (state name wins). */
  readonly taskHandlers?: Record<string, TaskHandler>;
  /** Endpoints for integrations. @default AWS_ENDPOINT_URL_<SERVICE> from the environment; sfn defaults to this endpoint */
  readonly endpoints?: Partial<Record<LocalService, string>>;
  /** Task timeout when a Task state sets none (the library's default is 60 s). @default 2000000 (~23 days) */
  readonly defaultTaskTimeoutSeconds?: number;
  /** Override every Retry interval with this many ms (tests). @default the intervals in the definition */
  readonly retryIntervalMs?: number;
  /** Override every Wait state with this many ms (tests). @default the waits in the definition */
  readonly waitTimeMs?: number;
  /** Validate definitions with asl-validator (the library's default). @default true */
  readonly validateDefinitions?: boolean;
}

export interface LocalStepFunctions extends LocalEndpoint {
  readonly region: string;
  readonly accountId: string;
  /** Create (or, same name and definition, return) a state machine; returns its ARN. */
  createStateMachine(name: string, definition: string | object, roleArn?: string): string;
  stateMachineArn(name: string): string;
  /** StartExecution in-process (same semantics as the API, incl. name idempotency). */
  startExecution(stateMachineArn: string, input?: string | object, name?: string): { executionArn: string; startDate: Date };
  describeExecution(executionArn: string): ExecutionView;
  listExecutions(stateMachineArn?: string): ExecutionView[];
  history(executionArn: string): HistoryEvent[];
  /** Resolves once the execution is no longer RUNNING (rejects after `timeoutMs`). */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionView>;
  /** Tasks waiting for a token callback, oldest first. */
  pendingTasks(executionArn?: string): PendingTask[];
  /** Resolves when a task for `stateName` (optionally in one execution) is waiting for its token. */
  waitForPendingTask(stateName: string, executionArn?: string, timeoutMs?: number): Promise<PendingTask>;
  sendTaskSuccess(taskToken: string, output: string | object): void;
  sendTaskFailure(taskToken: string, error?: string, cause?: string): void;
  sendTaskHeartbeat(taskToken: string): void;
  stopExecution(executionArn: string, error?: string, cause?: string): void;
  setLambdaInvoker(invoker: LambdaInvoker | undefined): void;
  setTaskHandler(stateNameOrResource: string, handler: TaskHandler | undefined): void;
  /** Point integrations at (other) emulator endpoints, e.g. once the local EventBridge is up. */
  setEndpoints(endpoints: Partial<Record<LocalService, string>>): void;
  /** Resolves when no execution is running. */
  idle(timeoutMs?: number): Promise<void>;
}

/** An error a task fails with; `name` is what Retry / Catch `ErrorEquals` match. */
export class TaskFailedError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** AWS's default task timeout is ~3 years; Node timers cap at 2^31-1 ms (~24.8 days). */
export const MAX_TIMER_SECONDS = 2_000_000;
