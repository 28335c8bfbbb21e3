/**
 * The task-token registry: the `.waitForTaskToken` tasks waiting for SendTaskSuccess / SendTaskFailure, their
 * heartbeat and timeout timers, and the tokens that are no longer valid (so a late callback gets TaskTimedOut,
 * as in AWS, rather than TaskDoesNotExist).
 */
import { randomBytes } from 'crypto';
import { AwsServiceError } from '../aws-http';
import { captureTimeoutErrorClass, timeoutError, withResolvers } from './asl';
import { TaskStateDef } from './machines';
import { MAX_TIMER_SECONDS, PendingTask, TaskFailedError } from './types';

interface TokenRecord extends PendingTask {
  resolve(v: unknown): void;
  reject(e: Error): void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
  heartbeatErrorName: string;
}

/** AWS matches a heartbeat timeout with States.Timeout: report it so when the state only retries/catches that. */
function heartbeatErrorName(def: TaskStateDef): string {
  const names = new Set([...(def.Retry ?? []), ...(def.Catch ?? [])].flatMap((r) => r.ErrorEquals ?? []));
  return !names.has('States.HeartbeatTimeout') && names.has('States.Timeout') ? 'States.Timeout' : 'States.HeartbeatTimeout';
}

export class TaskTokenRegistry {
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly expired = new Set<string>();
  private readonly waiters = new Set<() => void>();

  /** A fresh token, as AWS hands out (opaque, long). */
  static newToken(): string {
    return randomBytes(96).toString('base64');
  }

  /** Register a task waiting on `token`; the promise settles with its callback (or its heartbeat timeout). */
  open(token: string, task: Omit<PendingTask, 'taskToken' | 'since'>, def: TaskStateDef): Promise<unknown> {
    const { promise, resolve, reject } = withResolvers<unknown>();
    promise.catch(() => undefined); // may be abandoned after a state timeout
    const rec: TokenRecord = {
      taskToken: token,
      ...task,
      since: new Date(),
      resolve,
      reject,
      heartbeatMs: typeof def.HeartbeatSeconds === 'number' ? def.HeartbeatSeconds * 1000 : undefined,
      heartbeatErrorName: heartbeatErrorName(def),
    };
    // The library enforces TimeoutSeconds (States.Timeout); this only invalidates the token afterwards.
    const timeoutS = typeof def.TimeoutSeconds === 'number' ? def.TimeoutSeconds : undefined;
    if (timeoutS !== undefined) rec.timeoutTimer = setTimeout(() => this.expire(token), Math.min(timeoutS, MAX_TIMER_SECONDS) * 1000 + 250);
    this.tokens.set(token, rec);
    this.armHeartbeat(rec);
    return promise;
  }

  /** Invalidate a token (callbacks on it answer TaskTimedOut from now on). */
  expire(token: string): void {
    const t = this.tokens.get(token);
    if (!t) return;
    clearTimeout(t.heartbeatTimer);
    clearTimeout(t.timeoutTimer);
    this.tokens.delete(token);
    this.expired.add(token);
  }

  /** Invalidate the tokens of an ended execution. */
  expireExecution(executionArn: string): void {
    for (const [tok, t] of this.tokens) if (t.executionArn === executionArn) this.expire(tok);
  }

  /** Settle the abandoned token waits of a stopped execution, so the interpreter's task timers are cleared. */
  abortExecution(executionArn: string): void {
    for (const [tok, t] of [...this.tokens]) {
      if (t.executionArn !== executionArn) continue;
      this.expire(tok);
      t.reject(new TaskFailedError('States.Aborted', 'execution stopped'));
    }
  }

  pending(executionArn?: string): PendingTask[] {
    return [...this.tokens.values()]
      .filter((t) => !executionArn || t.executionArn === executionArn)
      .map(({ taskToken, executionArn, stateName, resource, input, since }) => ({ taskToken, executionArn, stateName, resource, input, since }));
  }

  /** Wake the `waitForPending` callers (a task started waiting, or an execution ended). */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when a task for `stateName` waits for its token; rejects if the execution (`status()`) ends first. */
  waitForPending(stateName: string, executionArn: string | undefined, timeoutMs: number, status: () => string | undefined): Promise<PendingTask> {
    return new Promise<PendingTask>((resolve, reject) => {
      const check = (): boolean => {
        const t = this.pending(executionArn).find((x) => x.stateName === stateName);
        if (t) {
          done();
          resolve(t);
          return true;
        }
        if (executionArn && status() !== 'RUNNING') {
          done();
          reject(new Error(`execution ${executionArn} ended (${status()}) before ${stateName} waited for a token`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no task waiting in state ${stateName} after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = () => void check();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  succeed(token: string, output: string | object): void {
    const t = this.take(token);
    const text = typeof output === 'string' ? output : JSON.stringify(output);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AwsServiceError('InvalidOutput', `Invalid Output: not valid json: ${JSON.stringify(text.slice(0, 80))}`);
    }
    this.expire(t.taskToken);
    t.resolve(parsed);
  }

  fail(token: string, error?: string, cause?: string): void {
    const t = this.take(token);
    this.expire(t.taskToken);
    t.reject(new TaskFailedError(error ?? 'States.TaskFailed', cause ?? ''));
  }

  heartbeat(token: string): void {
    this.armHeartbeat(this.take(token));
  }

  private take(token: unknown): TokenRecord {
    if (typeof token !== 'string' || !token) throw new AwsServiceError('InvalidToken', `Invalid Token: ${JSON.stringify(token)}`);
    const t = this.tokens.get(token);
    if (t) return t;
    if (this.expired.has(token))
      throw new AwsServiceError(
        'TaskTimedOut',
        'Task Timed Out: the task token is no longer valid (the task timed out, failed or its execution ended)',
      );
    throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist: unknown task token');
  }

  private armHeartbeat(t: TokenRecord): void {
    if (!t.heartbeatMs) return;
    clearTimeout(t.heartbeatTimer);
    t.heartbeatTimer = setTimeout(() => {
      this.expire(t.taskToken);
      void captureTimeoutErrorClass().then(() =>
        t.reject(timeoutError(t.heartbeatErrorName, `no heartbeat for ${t.heartbeatMs! / 1000} s (HeartbeatSeconds)`)),
      );
    }, t.heartbeatMs);
  }
}
