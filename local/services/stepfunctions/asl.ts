/**
 * The ASL interpreter, aws-local-stepfunctions 3, loaded behind the `Promise.withResolvers` polyfill it needs on
 * Node 20 (it targets Node 22 and calls it at run time), plus the library's timeout error class, which heartbeat
 * timeouts must be instances of.
 */
import { TaskFailedError } from './types';

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (v: T | PromiseLike<T>) => void;
  reject: (e?: unknown) => void;
}
type WithResolvers = <T>() => Resolvers<T>;
const P = Promise as unknown as { withResolvers?: WithResolvers };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>() => {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
import { StateMachine as AslStateMachine, ExecutionError, ExecutionTimeoutError, ExecutionAbortedError } from 'aws-local-stepfunctions';

export { AslStateMachine, ExecutionError, ExecutionTimeoutError, ExecutionAbortedError };

/** `Promise.withResolvers`, polyfilled above when the runtime lacks it. */
export function withResolvers<T>(): Resolvers<T> {
  return (Promise as unknown as { withResolvers: WithResolvers }).withResolvers<T>();
}

/**
 * The interpreter excludes its own timeout error class from the `States.TaskFailed` wildcard, as AWS does for
 * States.Timeout. Heartbeat timeouts are raised here, so they must be instances of that (unexported) class: it is
 * captured once, from a throwaway 1 s execution that times out, and its prototype reused.
 */
let timeoutErrorProto: object | undefined;
let capturingTimeoutError: Promise<void> | undefined;
export function captureTimeoutErrorClass(): Promise<void> {
  capturingTimeoutError ??= (async () => {
    const probe = new AslStateMachine({
      StartAt: 'Probe',
      States: { Probe: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe', TimeoutSeconds: 1, End: true } },
    } as never);
    const run = probe.run({} as never, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise<never>(() => undefined) } } } as never);
    try {
      await run.result;
    } catch (err) {
      const inner = (err as { cause?: Error }).cause;
      if (inner?.name === 'States.Timeout') timeoutErrorProto = Object.getPrototypeOf(inner) as object;
    }
  })().catch(() => undefined);
  return capturingTimeoutError;
}

/** An error the interpreter treats as a state timeout (a TaskFailedError until the class has been captured). */
export function timeoutError(name: string, message: string): Error {
  if (!timeoutErrorProto) return new TaskFailedError(name, message);
  const e = Object.create(timeoutErrorProto) as Error & { retryable: boolean; catchable: boolean };
  Object.assign(e, { name, message, retryable: true, catchable: true, stack: `${name}: ${message}` });
  return e;
}
