/**
 * The execution store: every execution's record (status, output, error) and its history, which is written from
 * the interpreter's event log in the shape GetExecutionHistory returns.
 */
import { AwsServiceError } from '../aws-http';
import { MachineRecord } from './machines';
import { ExecutionStatus, ExecutionView, HistoryEvent } from './types';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
  abort?: () => void;
  stopRequested?: { error?: string; cause?: string };
  done: Promise<void>;
}

/** Executions by ARN. */
export class ExecutionStore {
  private readonly executions = new Map<string, ExecutionRecord>();

  find(arn: string): ExecutionRecord | undefined {
    return this.executions.get(arn);
  }

  /** The execution, or ExecutionDoesNotExist. */
  get(arn: unknown): ExecutionRecord {
    const e = this.executions.get(String(arn));
    if (!e) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return e;
  }

  add(e: ExecutionRecord): void {
    this.executions.set(e.executionArn, e);
  }

  all(): ExecutionRecord[] {
    return [...this.executions.values()];
  }

  running(): ExecutionRecord[] {
    return this.all().filter((e) => e.status === 'RUNNING');
  }

  /** Resolves once the execution is no longer RUNNING (rejects after `timeoutMs`). */
  async waitFor(arn: string, timeoutMs: number): Promise<ExecutionView> {
    const e = this.get(arn);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        e.done,
        new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`execution ${arn} still ${e.status} after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return executionView(e);
  }

  /** Resolves when no execution is running. */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.running();
      if (!running.length) return;
      if (Date.now() > deadline) throw new Error(`${running.length} executions still running after ${timeoutMs} ms`);
      await Promise.race([Promise.all(running.map((e) => e.done)), new Promise((r) => setTimeout(r, 200))]);
    }
  }
}

export function executionView(e: ExecutionRecord): ExecutionView {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: e.startDate,
    ...(e.stopDate ? { stopDate: e.stopDate } : {}),
    input: e.input,
    ...(e.output !== undefined ? { output: e.output } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
  };
}

function addHistory(exec: ExecutionRecord, type: string, details: Record<string, unknown>, timestamp = Date.now()): void {
  const id = exec.history.length + 1;
  exec.history.push({ timestamp: timestamp / 1000, type, id, previousEventId: id - 1, ...details });
}

const json = (v: unknown) => JSON.stringify(v ?? null);

/** The history event for one event of the interpreter's log (undefined for the events AWS does not record). */
function historyEntry(exec: ExecutionRecord, m: MachineRecord, ev: Record<string, unknown>): [string, Record<string, unknown>] | undefined {
  const state = ev.state as { name: string; type: string; input?: unknown; output?: unknown } | undefined;
  switch (ev.type) {
    case 'ExecutionStarted':
      return ['ExecutionStarted', { executionStartedEventDetails: { input: json(ev.input), roleArn: m.roleArn } }];
    case 'StateEntered':
      return [`${state!.type}StateEntered`, { stateEnteredEventDetails: { name: state!.name, input: json(state!.input) } }];
    case 'StateExited':
      return [
        `${state!.type}StateExited`,
        { stateExitedEventDetails: { name: state!.name, output: json(ev.state && (ev.state as { output?: unknown }).output) } },
      ];
    case 'StateFailed':
      if (state?.type !== 'Task') return undefined;
      return [
        'TaskFailed',
        {
          taskFailedEventDetails: {
            resourceType: 'local',
            resource: m.tasks.get(state.name)?.Resource,
            error: ev.Error,
            cause: typeof ev.Cause === 'string' ? ev.Cause : json(ev.Cause),
          },
        },
      ];
    case 'StateRetried':
      return ['TaskStateRetried', { stateRetriedEventDetails: { name: state?.name, attempt: (ev.retry as { attempt?: number })?.attempt } }];
    case 'ExecutionSucceeded':
      return ['ExecutionSucceeded', { executionSucceededEventDetails: { output: json(ev.output) } }];
    case 'ExecutionFailed':
      return [
        'ExecutionFailed',
        {
          executionFailedEventDetails: {
            error: ev.Error,
            cause: typeof ev.Cause === 'string' ? ev.Cause : String((ev.Cause as Error)?.message ?? json(ev.Cause)),
          },
        },
      ];
    case 'ExecutionAborted':
      return ['ExecutionAborted', { executionAbortedEventDetails: { error: exec.stopRequested?.error, cause: exec.stopRequested?.cause } }];
    case 'ExecutionTimeout':
      return ['ExecutionTimedOut', { executionTimedOutEventDetails: {} }];
    default:
      return undefined;
  }
}

/** Write the interpreter's event log into the execution's history as it arrives. */
export async function recordHistory(exec: ExecutionRecord, m: MachineRecord, logs: AsyncGenerator<Record<string, unknown>>): Promise<void> {
  for await (const ev of logs) {
    const entry = historyEntry(exec, m, ev);
    if (entry) addHistory(exec, entry[0], entry[1], Number(ev.timestamp ?? Date.now()));
  }
}

/** GetExecutionHistory with includeExecutionData=false: drop inputs and outputs. */
export function stripData(ev: HistoryEvent): HistoryEvent {
  const out: HistoryEvent = { ...ev };
  for (const [k, v] of Object.entries(ev)) {
    if (k.endsWith('EventDetails') && v && typeof v === 'object') {
      const { input: _i, output: _o, ...rest } = v as Record<string, unknown>;
      out[k] = rest;
    }
  }
  return out;
}
