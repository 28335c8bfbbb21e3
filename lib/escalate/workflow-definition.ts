/**
 * The escalation workflow's states (the ASL of the Standard state machine): record the case, check the guardrails,
 * then suspend, restrict, ask a reviewer or dismiss, with compensation when an enforcement fails half-way and a
 * safe end (case marked error, account released) when a step fails after its retries. The states are created in
 * the Escalation construct's scope: their ids are the state names in the ASL. The order in which states are created
 * and chained here is the order of the ASL's States in the template's DefinitionString: reordering the code changes
 * the deployed definition even when the workflow is the same.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

export interface WorkflowDefinitionProps {
  /** Record case, guardrails, review result, dismiss, overdue, error. */
  readonly caseFunction: lambda.IFunction;
  /** Apply, compensate and lift suspensions and restrictions. */
  readonly suspensionFunction: lambda.IFunction;
  /** The Review state's function (keeps the task token, notifies the review queue). */
  readonly reviewTaskFunction: lambda.IFunction;
  /** The Review state's TimeoutSeconds. */
  readonly reviewTimeout: Duration;
  /** The Review state's HeartbeatSeconds, if any. */
  readonly reviewHeartbeat?: Duration;
}

/** Lambda service errors worth retrying (transient on the service side). */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** The states every path shares: the step factory, the error path and the two ends. */
class Steps {
  readonly failed: sfn.Fail;
  readonly markError: sfn.TaskStateBase;
  readonly done: sfn.Succeed;

  constructor(
    private readonly scope: Construct,
    readonly props: WorkflowDefinitionProps,
  ) {
    this.failed = new sfn.Fail(scope, 'EscalationFailed', {
      error: 'EscalationFailed',
      cause: 'a step failed after retries; the case is marked error and nothing is half-applied',
    });
    this.markError = this.step('MarkError', props.caseFunction, 'error', undefined, 'case -> error (needs attention), account released').addCatch(
      this.failed,
      { resultPath: '$.markErrorFailure' },
    );
    this.markError.next(this.failed);
    this.done = new sfn.Succeed(scope, 'Done');
  }

  /** A step of a workflow function: `{step: name, state: <the state>}` in, its result at `resultPath`. */
  step(id: string, fn: lambda.IFunction, name: string, resultPath: string | undefined, comment: string): sfn.TaskStateBase {
    const task = new tasks.LambdaInvoke(this.scope, id, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false, // the retry below covers them (with jitter)
      payload: sfn.TaskInput.fromObject({ step: name, state: sfn.JsonPath.entirePayload }),
      resultPath: resultPath ?? sfn.JsonPath.DISCARD,
      comment,
    });
    // Lambda service hiccups, then anything the step threw (steps are idempotent).
    task.addRetry({
      errors: LAMBDA_SERVICE_ERRORS,
      interval: Duration.seconds(1),
      maxAttempts: 6,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    task.addRetry({
      errors: ['States.TaskFailed'],
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }

  /** Any error of `t` goes to `next` (by default: mark the case error). */
  catchTo(t: sfn.TaskStateBase, next: sfn.IChainable = this.markError): sfn.TaskStateBase {
    return t.addCatch(next, { errors: ['States.ALL'], resultPath: '$.error' });
  }
}

/** The whole workflow, from its start state. */
export function buildWorkflowDefinition(scope: Construct, props: WorkflowDefinitionProps): sfn.IChainable {
  const steps = new Steps(scope, props);
  const caseFn = props.caseFunction;
  const duplicate = new sfn.Succeed(scope, 'Duplicate', { comment: 'the account already has an open case: nothing to do' });
  const record = steps.catchTo(
    steps.step('RecordCase', caseFn, 'record', '$.record', 'one open case per account; evidence snapshot; Account Flagged (outbox)'),
  );
  const guard = steps.catchTo(
    steps.step('CheckGuardrails', caseFn, 'route', '$.guard', 'allowlist, circuit breaker, shadow mode -> suspend | restrict | review | dismiss'),
  );
  const dismiss = steps.catchTo(steps.step('Dismiss', caseFn, 'dismiss', '$.closed', 'close without enforcement'));
  dismiss.next(steps.done);
  const review = reviewTask(scope, steps);
  const { apply, restrict, rejected } = enforcementSteps(scope, steps, review, dismiss);

  const reviewed = steps.catchTo(steps.step('RecordReview', caseFn, 'reviewed', '$.reviewed', 'validate and audit the reviewer decision'));
  const approved = new sfn.Choice(scope, 'Approved?')
    .when(
      sfn.Condition.and(sfn.Condition.booleanEquals('$.reviewed.approved', true), sfn.Condition.stringEquals('$.reviewed.action', 'restrict')),
      restrict,
    )
    .when(sfn.Condition.booleanEquals('$.reviewed.approved', true), apply)
    .otherwise(rejected);
  review.next(reviewed);
  reviewed.next(approved);

  const route = new sfn.Choice(scope, 'Route')
    .when(sfn.Condition.stringEquals('$.guard.route', 'suspend'), apply)
    .when(sfn.Condition.stringEquals('$.guard.route', 'restrict'), restrict)
    .when(sfn.Condition.stringEquals('$.guard.route', 'review'), review)
    .otherwise(dismiss);
  guard.next(route);

  const isDuplicate = new sfn.Choice(scope, 'Duplicate?').when(sfn.Condition.booleanEquals('$.record.duplicate', true), duplicate).otherwise(guard);
  record.next(isDuplicate);

  // The execution id lets RecordCase tell a retry from a second execution of the same case.
  const start = new sfn.Pass(scope, 'Start', { parameters: { 'id.$': '$$.Execution.Id' }, resultPath: '$.executionMeta' });
  const flatten = new sfn.Pass(scope, 'ExecutionId', { inputPath: '$.executionMeta.id', resultPath: '$.executionId' });
  return start.next(flatten).next(record);
}

/**
 * The Review state: the function keeps the task token with the case and notifies the review queue; the review API
 * completes the task. A timeout (or a missed heartbeat) marks the case overdue, with no suspension.
 */
function reviewTask(scope: Construct, steps: Steps): tasks.LambdaInvoke {
  const { reviewTimeout, reviewHeartbeat } = steps.props;
  const overdue = steps
    .step('MarkOverdue', steps.props.caseFunction, 'overdue', '$.closed', 'deadline passed: no suspension, case overdue')
    .addCatch(steps.failed, { resultPath: '$.error' });
  overdue.next(steps.done);
  const review = new tasks.LambdaInvoke(scope, 'Review', {
    comment:
      'human review: the function keeps the task token with the case (encrypted) and notifies the review queue; the review API completes the task',
    lambdaFunction: steps.props.reviewTaskFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      taskToken: sfn.JsonPath.taskToken,
      caseId: sfn.JsonPath.stringAt('$.caseId'),
      accountId: sfn.JsonPath.stringAt('$.accountId'),
      decision: sfn.JsonPath.stringAt('$.decision'),
      score: sfn.JsonPath.numberAt('$.score'),
      reasons: sfn.JsonPath.listAt('$.reasons'),
      deadline: sfn.JsonPath.stringAt('$.guard.reviewDeadline'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
    }),
    retryOnServiceExceptions: false, // the retry below covers them (with jitter)
    taskTimeout: sfn.Timeout.duration(reviewTimeout),
    ...(reviewHeartbeat ? { heartbeatTimeout: sfn.Timeout.duration(reviewHeartbeat) } : {}),
    resultPath: '$.review',
  });
  review.addRetry({
    errors: LAMBDA_SERVICE_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  review.addCatch(overdue, { errors: ['States.Timeout', 'States.HeartbeatTimeout'], resultPath: '$.error' });
  steps.catchTo(review);
  return review;
}

/**
 * The enforcements: apply a suspension, apply a restriction, and what a rejection does (lift the restriction this
 * case applied before the review, then dismiss). Each enforcement is compensated when it fails half-way.
 */
function enforcementSteps(
  scope: Construct,
  steps: Steps,
  review: sfn.TaskStateBase,
  dismiss: sfn.TaskStateBase,
): { apply: sfn.TaskStateBase; restrict: sfn.TaskStateBase; rejected: sfn.Choice } {
  const suspensionFn = steps.props.suspensionFunction;
  const compensated = (id: string, name: string, comment: string) => {
    const t = steps.step(id, suspensionFn, name, '$.compensated', comment).addCatch(steps.markError, { resultPath: '$.compensateFailure' });
    t.next(steps.markError);
    return t;
  };
  const compensate = compensated('CompensateSuspension', 'compensate', 're-enable any API key the failed suspension disabled');
  const apply = steps.catchTo(
    steps.step(
      'ApplySuspension',
      suspensionFn,
      'apply',
      '$.applied',
      'allowlist re-check; keys off; status + case + audit + Account Suspended in one transaction',
    ),
    compensate,
  );

  // Restrict: keys to the throttled plan, status + step-up + audit + Account Restricted in one transaction. Before a
  // review (restrict plus review) the case then waits for the reviewer; a reviewer's restrict closes it.
  const compensateRestriction = compensated(
    'CompensateRestriction',
    'compensate-restriction',
    'move any key the failed restriction moved back to its usage plan',
  );
  const restrict = steps.catchTo(
    steps.step(
      'ApplyRestriction',
      suspensionFn,
      'restrict',
      '$.restricted',
      'allowlist re-check; keys to the restricted usage plan; status + step-up + case + audit + Account Restricted in one transaction',
    ),
    compensateRestriction,
  );
  const afterRestrict = new sfn.Choice(scope, 'Restricted?')
    .when(sfn.Condition.booleanEquals('$.restricted.closed', true), steps.done)
    // Restrict plus review, or refused by the breaker: the case is already in review with its deadline.
    .when(
      sfn.Condition.or(
        sfn.Condition.stringEquals('$.restricted.outcome', 'restricted'),
        sfn.Condition.stringEquals('$.restricted.outcome', 'breaker'),
      ),
      review,
    )
    .when(sfn.Condition.stringEquals('$.restricted.outcome', 'allowlisted'), dismiss)
    .otherwise(steps.markError);
  restrict.next(afterRestrict);
  const lift = steps.catchTo(
    steps.step(
      'LiftRestriction',
      suspensionFn,
      'lift',
      '$.lifted',
      'rejected: lift the restriction this case applied (keys back, step-up cleared, Account Reinstated)',
    ),
  );
  lift.next(dismiss);
  const rejected = new sfn.Choice(scope, 'RestrictedBeforeReview?')
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.restricted.outcome'), sfn.Condition.stringEquals('$.restricted.outcome', 'restricted')), lift)
    .otherwise(dismiss);

  const toReview = new sfn.Pass(scope, 'BreakerRefusedAtApply', {
    comment: 'the breaker tripped between the check and the apply: hand the case to a human',
    inputPath: '$.applied.reviewDeadline',
    resultPath: '$.guard.reviewDeadline',
  });
  toReview.next(review);
  const afterApply = new sfn.Choice(scope, 'Applied?')
    .when(sfn.Condition.stringEquals('$.applied.outcome', 'breaker'), toReview)
    .when(sfn.Condition.stringEquals('$.applied.outcome', 'allowlisted'), dismiss)
    .when(sfn.Condition.stringEquals('$.applied.outcome', 'suspended'), steps.done)
    // `not-open`: the case no longer owns the account (closed or superseded): an inconsistency worth an alarm.
    .otherwise(steps.markError);
  apply.next(afterApply);
  return { apply, restrict, rejected };
}
