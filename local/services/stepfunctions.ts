/**
 * A local AWS Step Functions endpoint (AWS JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`), so the real
 * `@aws-sdk/client-sfn` (StartExecution, DescribeExecution, SendTaskSuccess, ...) works against it via
 * `endpoint` or `AWS_ENDPOINT_URL_SFN`.
 *
 * Executions run the ASL in aws-local-stepfunctions 3 (the interpreter; it needs `Promise.withResolvers`, which
 * ./stepfunctions/asl.ts polyfills on Node 20). What this service adds on top of the library, because the library has none of
 * it: the service API and execution bookkeeping (names, idempotent StartExecution, history), task tokens
 * (`.waitForTaskToken`, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, HeartbeatSeconds), and the task
 * resources:
 * - `arn:aws:states:::lambda:invoke` and Lambda function ARNs -> the `invokeLambda` callback the runtime registers;
 * - `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem`, `arn:aws:states:::sqs:sendMessage`,
 *   `arn:aws:states:::events:putEvents`, `arn:aws:states:::states:startExecution` and
 *   `arn:aws:states:::aws-sdk:<service>:<action>` (dynamodb, sqs, eventbridge, sfn, apigateway, kinesis) -> the
 *   real AWS SDK v3 clients against the emulators (AWS_ENDPOINT_URL_<SERVICE> or `endpoints`);
 * - any state name or resource -> a custom handler (`taskHandlers` / `setTaskHandler`).
 * Service errors get the names Step Functions uses, so Retry / Catch in the ASL behave as in AWS:
 * `DynamoDB.ConditionalCheckFailedException` (optimized integrations), `DynamoDb.ConditionalCheckFailedException`
 * (aws-sdk integrations: PascalCase service + `Exception` suffix), `EventBridge.FailedEntry`, `States.Timeout`,
 * `States.HeartbeatTimeout` (reported as `States.Timeout` when the state only catches/retries that, as AWS
 * matches a heartbeat timeout with States.Timeout).
 *
 * Auth: every request must carry a well-formed SigV4 Authorization header (so only signing SDK clients get in);
 * the signature is not verified and IAM is not evaluated locally.
 *
 * Distributed Map runs its children in process (./stepfunctions/distributed-map.ts): items from `ItemsPath`,
 * `ItemSelector` with `$$.Map.Item.*`, `MaxConcurrency`, and a failed child failing the map with
 * `States.ExceedToleratedFailureThreshold`; `ItemReader`, `ResultWriter`, `ItemBatcher` and tolerated failures
 * above 0 are refused.
 *
 * Not emulated: `.sync` integrations, activities, Express-workflow semantics, JSONata, map runs, `$$.State.*`
 * context fields (only `$$.Execution.*`, `$$.StateMachine.*`, `$$.Task.Token`, and `$$.Map.Item.*` in a map's
 * `ItemSelector`), the 90-day name-reuse window, redrive, versions and aliases.
 *
 * This file composes the parts in ./stepfunctions/: the state machines (machines.ts), the execution store and
 * history (executions.ts), the task-token registry (task-tokens.ts), the service integrations
 * (integrations.ts), the executor that runs the interpreter (executor.ts, over asl.ts) and the wire API
 * (wire-api.ts).
 */
import { jsonProtocolHandler, listen, LOCAL_ACCOUNT_ID } from './aws-http';
import { executionView, ExecutionStore } from './stepfunctions/executions';
import { ExecutionRunner } from './stepfunctions/executor';
import { ServiceIntegrations } from './stepfunctions/integrations';
import { StateMachineRegistry } from './stepfunctions/machines';
import { TaskTokenRegistry } from './stepfunctions/task-tokens';
import { LocalStepFunctions, LocalStepFunctionsOptions, MAX_TIMER_SECONDS, TaskHandler } from './stepfunctions/types';
import { stepFunctionsOperations } from './stepfunctions/wire-api';

export * from './stepfunctions/types';

/** Start the local Step Functions endpoint. */
export async function startStepFunctions(opts: LocalStepFunctionsOptions = {}): Promise<LocalStepFunctions> {
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const accountId = opts.accountId ?? LOCAL_ACCOUNT_ID;
  const defaultTaskTimeoutSeconds = Math.min(opts.defaultTaskTimeoutSeconds ?? MAX_TIMER_SECONDS, MAX_TIMER_SECONDS);
  const machines = new StateMachineRegistry({
    region,
    accountId,
    defaultTaskTimeoutSeconds,
    validateDefinitions: opts.validateDefinitions !== false,
  });
  const executions = new ExecutionStore();
  const tokens = new TaskTokenRegistry();
  const integrations = new ServiceIntegrations(region, opts.endpoints, opts.invokeLambda);
  const taskHandlers = new Map<string, TaskHandler>(Object.entries(opts.taskHandlers ?? {}));
  const runner = new ExecutionRunner({
    machines,
    executions,
    tokens,
    integrations,
    taskHandlers,
    retryIntervalMs: opts.retryIntervalMs,
    waitTimeMs: opts.waitTimeMs,
  });

  const api: Omit<LocalStepFunctions, 'endpoint' | 'port' | 'stop'> = {
    region,
    accountId,
    createStateMachine: (name, definition, roleArn) => machines.create(name, definition, roleArn).arn,
    stateMachineArn: (name) => machines.arn(name),
    startExecution: (arn, input, name) => {
      const e = runner.start(arn, input, name);
      return { executionArn: e.executionArn, startDate: e.startDate };
    },
    describeExecution: (arn) => executionView(executions.get(arn)),
    listExecutions: (smArn) =>
      executions
        .all()
        .filter((e) => !smArn || e.stateMachineArn === smArn)
        .map(executionView),
    history: (arn) => [...executions.get(arn).history],
    waitForExecution: (arn, timeoutMs = 60000) => executions.waitFor(arn, timeoutMs),
    pendingTasks: (arn) => tokens.pending(arn),
    waitForPendingTask: (stateName, arn, timeoutMs = 30000) =>
      tokens.waitForPending(stateName, arn, timeoutMs, () => (arn ? executions.find(arn)?.status : undefined)),
    sendTaskSuccess: (token, output) => tokens.succeed(token, output),
    sendTaskFailure: (token, error, cause) => tokens.fail(token, error, cause),
    sendTaskHeartbeat: (token) => tokens.heartbeat(token),
    stopExecution: (arn, error, cause) => runner.stop(arn, error, cause),
    setLambdaInvoker: (inv) => integrations.setLambdaInvoker(inv),
    setTaskHandler: (k, h) => {
      if (h) taskHandlers.set(k, h);
      else taskHandlers.delete(k);
    },
    setEndpoints: (eps) => integrations.setEndpoints(eps),
    idle: (timeoutMs = 60000) => executions.idle(timeoutMs),
  };

  const operations = stepFunctionsOperations(machines, executions, api);
  const ep = await listen(jsonProtocolHandler({ targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0', operations }), opts.port ?? 0);
  integrations.selfEndpoint = ep.endpoint;
  return {
    ...api,
    endpoint: ep.endpoint,
    port: ep.port,
    stop: async () => {
      for (const e of executions.running()) api.stopExecution(e.executionArn, 'Local.Shutdown', 'local step functions stopped');
      await Promise.allSettled(executions.all().map((e) => e.done));
      integrations.destroy();
      await ep.stop();
    },
  };
}
