/**
 * Runs the Lambda bundles from cdk.out locally. Each function gets a small pool of worker threads ("sandboxes"),
 * each created with the function's resolved environment as its own process.env, so module-level SDK clients in
 * the bundle are built against the emulators (AWS_ENDPOINT_URL_<SERVICE>) and the local resource names. A
 * sandbox serves one invocation at a time; a timeout terminates it (as Lambda kills the execution environment)
 * and the next invocation gets a fresh, cold one.
 *
 * Hand-written: the available local Lambda runners (SAM CLI, LocalStack) need Docker, which this machine lacks.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { FunctionModel } from './template';

export interface InvokeResult {
  ok: boolean;
  /** The handler's return value (ok) or `{ errorType, errorMessage, stackTrace }` (not ok). */
  payload: unknown;
  durationMs: number;
  requestId: string;
  /** True when the invocation ran out of its configured timeout. */
  timedOut?: boolean;
  coldStart: boolean;
}

export class LambdaInvocationError extends Error {
  constructor(
    readonly functionName: string,
    readonly result: InvokeResult,
  ) {
    const p = result.payload as { errorType?: string; errorMessage?: string } | undefined;
    super(`${functionName} failed: ${p?.errorType ?? 'Error'}: ${p?.errorMessage ?? JSON.stringify(result.payload)}`);
    this.name = p?.errorType ?? 'LambdaInvocationError';
  }
}

export interface LambdaRunnerOptions {
  /** Environment shared by every function (endpoints, region, dummy credentials); the function's own wins. */
  readonly baseEnv: Record<string, string>;
  /** Where function output (stdout/stderr of the sandboxes) goes. @default inherited by the parent */
  readonly logFile?: string;
  /** Called with each output line (after the log file). */
  readonly onLog?: (functionName: string, line: string) => void;
  /** Max concurrent sandboxes per function (capped by reserved concurrency). @default 4 */
  readonly maxConcurrencyPerFunction?: number;
  /** Multiply each function's timeout (slow emulators). @default 1 */
  readonly timeoutMultiplier?: number;
}

interface Sandbox {
  id: string;
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  invocations: number;
  pending?: { requestId: string; resolve: (r: { ok: boolean; payload: unknown }) => void };
  dead: boolean;
}

export interface FunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  coldStarts: number;
  totalDurationMs: number;
}

class LocalFunction {
  readonly stats: FunctionStats = { invocations: 0, errors: 0, timeouts: 0, coldStarts: 0, totalDurationMs: 0 };
  private readonly sandboxes: Sandbox[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly maxSandboxes: number;
  private seq = 0;

  constructor(
    readonly model: FunctionModel,
    private readonly opts: LambdaRunnerOptions,
    private readonly log: (fn: string, chunk: string) => void,
  ) {
    const cap = opts.maxConcurrencyPerFunction ?? 4;
    this.maxSandboxes = Math.max(
      1,
      model.reservedConcurrency !== undefined && model.reservedConcurrency > 0 ? Math.min(cap, model.reservedConcurrency) : cap,
    );
  }

  private env(): Record<string, string> {
    const m = this.model;
    return {
      ...this.opts.baseEnv,
      AWS_LAMBDA_FUNCTION_NAME: m.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(m.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${m.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${this.model.logicalId}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_${m.runtime ?? 'nodejs22.x'}`,
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      LAMBDA_TASK_ROOT: m.codeDir ?? '',
      _HANDLER: m.handler,
      TZ: ':UTC',
      ...m.environment,
    };
  }

  private spawn(): Sandbox {
    const m = this.model;
    // a sandbox that dies while the runner stops wakes a waiting invocation: it must not start a worker nobody stops
    if (this.stopped) throw new Error(`function ${m.logicalId} is stopped (the local runtime is shutting down)`);
    if (!m.codeDir) throw new Error(`function ${m.logicalId} has no bundle in cdk.out (was it synthesized with bundling?)`);
    const id = `${m.logicalId}-${++this.seq}`;
    const worker = new Worker(path.join(__dirname, 'lambda-worker.js'), {
      env: this.env(),
      workerData: {
        codeDir: m.codeDir,
        handler: m.handler,
        functionName: m.name,
        functionArn: m.arn,
        memoryMb: m.memoryMb,
        logGroupName: `/aws/lambda/${m.name}`,
        sandboxId: id,
      },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(256, m.memoryMb) },
    });
    const sb: Sandbox = { id, worker, busy: false, invocations: 0, dead: false, ready: Promise.resolve() };
    sb.ready = new Promise<void>((resolve, reject) => {
      const onMsg = (msg: { type: string }) => {
        if (msg.type === 'ready') {
          worker.off('message', onMsg);
          resolve();
        }
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
    });
    const pipe = (stream: NodeJS.ReadableStream) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          this.log(m.name, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    };
    pipe(worker.stdout);
    pipe(worker.stderr);
    worker.on('message', (msg: { type: string; requestId?: string; ok?: boolean; payload?: unknown }) => {
      if (msg.type === 'result' && sb.pending && sb.pending.requestId === msg.requestId) {
        const p = sb.pending;
        sb.pending = undefined;
        p.resolve({ ok: Boolean(msg.ok), payload: msg.payload });
      }
    });
    const onDeath = (err?: unknown) => {
      if (sb.dead) return;
      sb.dead = true;
      const idx = this.sandboxes.indexOf(sb);
      if (idx >= 0) this.sandboxes.splice(idx, 1);
      if (sb.pending) {
        const p = sb.pending;
        sb.pending = undefined;
        const message = err instanceof Error ? err.message : `sandbox exited`;
        p.resolve({
          ok: false,
          payload: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${p.requestId} Error: Runtime exited: ${message}` },
        });
      }
      this.release();
    };
    worker.on('error', (err) => onDeath(err));
    worker.on('exit', () => onDeath());
    this.sandboxes.push(sb);
    return sb;
  }

  private release(): void {
    const w = this.waiters.shift();
    if (w) w();
  }

  private async acquire(): Promise<{ sb: Sandbox; cold: boolean }> {
    for (;;) {
      const idle = this.sandboxes.find((s) => !s.busy && !s.dead);
      if (idle) {
        idle.busy = true;
        return { sb: idle, cold: false };
      }
      if (this.sandboxes.length < this.maxSandboxes) {
        const sb = this.spawn();
        sb.busy = true;
        return { sb, cold: true };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Invocations accepted and not finished (running or waiting for a sandbox). */
  active = 0;

  async invoke(event: unknown): Promise<InvokeResult> {
    this.active++;
    try {
      return await this.invokeInner(event);
    } finally {
      this.active--;
    }
  }

  private async invokeInner(event: unknown): Promise<InvokeResult> {
    const { sb, cold } = await this.acquire();
    const requestId = randomUUID();
    const started = Date.now();
    const timeoutMs = this.model.timeoutSeconds * 1000 * (this.opts.timeoutMultiplier ?? 1);
    this.stats.invocations++;
    if (cold) this.stats.coldStarts++;
    let timer: NodeJS.Timeout | undefined;
    try {
      try {
        await sb.ready;
      } catch (err) {
        return {
          ok: false,
          payload: { errorType: 'Runtime.InitError', errorMessage: (err as Error).message },
          durationMs: Date.now() - started,
          requestId,
          coldStart: cold,
        };
      }
      const result = await new Promise<{ ok: boolean; payload: unknown; timedOut?: boolean }>((resolve) => {
        sb.pending = { requestId, resolve };
        timer = setTimeout(() => {
          if (sb.pending?.requestId !== requestId) return;
          sb.pending = undefined;
          // The execution environment is discarded: take it out of the pool before the next invocation.
          sb.dead = true;
          const idx = this.sandboxes.indexOf(sb);
          if (idx >= 0) this.sandboxes.splice(idx, 1);
          resolve({
            ok: false,
            timedOut: true,
            payload: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            },
          });
          void sb.worker.terminate();
        }, timeoutMs);
        sb.worker.postMessage({ type: 'invoke', requestId, event, deadline: started + timeoutMs });
      });
      const durationMs = Date.now() - started;
      this.stats.totalDurationMs += durationMs;
      if (!result.ok) this.stats.errors++;
      if (result.timedOut) this.stats.timeouts++;
      return { ...result, durationMs, requestId, coldStart: cold };
    } finally {
      if (timer) clearTimeout(timer);
      sb.busy = false;
      sb.invocations++;
      this.release();
    }
  }

  /** Heap used by this function's live sandboxes (each reports its own isolate). */
  async memory(): Promise<{ sandboxes: number; heapUsed: number }> {
    const live = this.sandboxes.filter((s) => !s.dead);
    const sizes = await Promise.all(
      live.map(
        (sb) =>
          new Promise<number>((resolve) => {
            const id = Math.random().toString(36).slice(2);
            const timer = setTimeout(() => {
              sb.worker.off('message', onMsg);
              resolve(0);
            }, 2000);
            const onMsg = (m: { type: string; id?: string; heapUsed?: number }) => {
              if (m.type === 'memory' && m.id === id) {
                clearTimeout(timer);
                sb.worker.off('message', onMsg);
                resolve(m.heapUsed ?? 0);
              }
            };
            sb.worker.on('message', onMsg);
            sb.worker.postMessage({ type: 'memory', id });
          }),
      ),
    );
    return { sandboxes: live.length, heapUsed: sizes.reduce((a, b) => a + b, 0) };
  }

  private stopped = false;

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.sandboxes];
    this.sandboxes.length = 0;
    await Promise.all(all.map((s) => s.worker.terminate().catch(() => 0)));
  }
}

/** All functions of a stack, invokable by name, logical id or ARN. */
export class LambdaRunner {
  private readonly fns = new Map<string, LocalFunction>();
  private readonly logStream?: fs.WriteStream;

  constructor(
    functions: FunctionModel[],
    private readonly opts: LambdaRunnerOptions,
  ) {
    if (opts.logFile) {
      fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
      this.logStream = fs.createWriteStream(opts.logFile, { flags: 'w' });
    }
    const log = (fn: string, line: string) => {
      if (this.logStream) this.logStream.write(`${fn}\t${line}\n`);
      else if (!opts.onLog) process.stdout.write(`[${fn}] ${line}\n`);
      opts.onLog?.(fn, line);
    };
    for (const f of functions) {
      const lf = new LocalFunction(f, opts, log);
      this.fns.set(f.name, lf);
      this.fns.set(f.logicalId, lf);
      this.fns.set(f.arn, lf);
    }
  }

  /** Resolves a function by name, logical id, ARN (qualified or not) or partial ARN. */
  find(ref: string): LocalFunction | undefined {
    const direct = this.fns.get(ref);
    if (direct) return direct;
    let name = ref;
    if (ref.startsWith('arn:')) name = ref.split(':')[6] ?? ref;
    else if (ref.includes(':')) name = ref.split(':')[0];
    return this.fns.get(name);
  }

  has(ref: string): boolean {
    return this.find(ref) !== undefined;
  }

  /** Invokes synchronously (RequestResponse); function errors come back as `ok: false`, never thrown. */
  async invoke(ref: string, event: unknown): Promise<InvokeResult> {
    const fn = this.find(ref);
    if (!fn) throw new Error(`no local function for ${ref}`);
    return fn.invoke(event);
  }

  /** Invokes and returns the payload, throwing LambdaInvocationError on a function error (what SFN tasks need). */
  async invokeOrThrow(ref: string, event: unknown): Promise<unknown> {
    const fn = this.find(ref);
    if (!fn) throw new Error(`no local function for ${ref}`);
    const r = await fn.invoke(event);
    if (!r.ok) throw new LambdaInvocationError(fn.model.name, r);
    return r.payload;
  }

  /** Heap used by all sandboxes, per function logical id. */
  async memory(): Promise<Record<string, { sandboxes: number; heapUsed: number }>> {
    const out: Record<string, { sandboxes: number; heapUsed: number }> = {};
    for (const f of new Set(this.fns.values())) out[f.model.logicalId] = await f.memory();
    return out;
  }

  /** Invocations in flight over all functions. */
  inFlight(): number {
    let n = 0;
    for (const f of new Set(this.fns.values())) n += f.active;
    return n;
  }

  stats(): Record<string, FunctionStats> {
    const out: Record<string, FunctionStats> = {};
    for (const f of new Set(this.fns.values())) out[f.model.logicalId] = { ...f.stats };
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...new Set(this.fns.values())].map((f) => f.stop()));
    await new Promise<void>((resolve) => (this.logStream ? this.logStream.end(resolve) : resolve()));
  }
}
