/**
 * The operator side of escalation, shared by the CLI (`distill-guard review|allowlist|breaker`) and the web console
 * (`distill-guard console`). It runs with the OPERATOR'S OWN credentials (default SDK chain). Review decisions go
 * to the stack's review API (a function URL with IAM auth) as SigV4-signed requests: the API records the signed
 * caller as the reviewer and alone completes the review task. The tools never see a task token.
 * Not a Lambda: ops/ is the operator API (what the CLI and the console call); no function bundles it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { AuditEntry, CaseRecord, CaseState, assertId, caseStateGsiPk } from '../src/escalate/model';
import { ShadowConfig, suspensionsLastHour } from '../src/escalate/guardrails';
import { AccountStatus, EscalationStore, OperatorError } from '../lambdas/escalate/store';
import type { ReinstateRequest, ReinstateResponse } from '../lambdas/escalate/reinstate-handler';
import type { RestrictRequest, RestrictResponse } from '../lambdas/escalate/restrict-handler';
import { DEFAULT_RESTRICT_HOURS } from '../src/escalate/restriction';
import { Credentials, ReviewApiClient } from '../lambdas/escalate/review-api-client';
import { NOT_STORED_YET } from '../lambdas/escalate/task-token-store';
import { localPrincipal } from '../local/services/function-url';
import { allowlistAdd, allowlistList, allowlistRemove } from '../lambdas/escalate/allowlist';
import { breakerCounts, getBreaker, rearmBreaker } from '../lambdas/escalate/breaker';
import { activeAccounts } from '../lambdas/escalate/feature-reads';
import { suspendedAccounts } from '../lambdas/escalate/reinstatement';
import { getShadow, setShadow } from '../lambdas/escalate/shadow';

export { OperatorError };

/** Where the escalation resources are. */
export interface EscalationResources {
  region: string;
  controlTable: string;
  featuresTable?: string;
  stateMachineArn?: string;
  reviewQueueUrl?: string;
  /** The review API (function URL, IAM auth): approve, reject, heartbeat. */
  reviewApiUrl?: string;
  /** The reinstatement function (name or ARN): `review reinstate` invokes it. */
  reinstateFunction?: string;
  /** The manual restriction function (name or ARN): `distill-guard restrict` invokes it. */
  restrictFunction?: string;
  /** The cluster decision function (name or ARN): `cluster decide` invokes it. */
  clusterDecisionFunction?: string;
  /** Service endpoints when running against the local runtime. */
  endpoints?: Partial<Record<'dynamodb' | 'sqs' | 'sfn' | 'api_gateway' | 'sts' | 'lambda', string>>;
  local: boolean;
}

export interface ConnectOptions {
  region?: string;
  /** CloudFormation stack to discover the resources from. @default 'DistillGuard' */
  stack?: string;
  /** Use the local runtime (`.local/endpoints.json`). @default when that file exists */
  local?: boolean;
  /** Path of the local endpoints file. @default `.local/endpoints.json` under the current directory */
  endpointsFile?: string;
  /** Explicit resources (tests, or the operator overriding discovery). */
  resources?: Partial<EscalationResources>;
  /** Reviewer identity override (local runs only; in AWS it is always the STS caller ARN). */
  identity?: string;
}

const OUTPUT_KEYS = {
  stateMachineArn: 'EscalationStateMachineArn',
  reviewQueueUrl: 'EscalationReviewQueueUrl',
  controlTable: 'EscalationControlTableName',
  featuresTable: 'EscalationFeaturesTableName',
  reinstateFunction: 'EscalationReinstateFunctionName',
  restrictFunction: 'EscalationRestrictFunctionName',
  clusterDecisionFunction: 'EscalationClusterDecisionFunctionName',
  reviewApiUrl: 'EscalationReviewApiUrl',
} as const;

/** Read `.local/endpoints.json` (written by `npm start`): `{region?, endpoints: {...}, outputs: {...}}`. */
export function readLocalEndpoints(file: string): Partial<EscalationResources> {
  type Loose = Record<string, string | undefined>;
  let j: Loose & { region?: string; endpoints?: Loose; outputs?: Loose; stackOutputs?: Loose; resources?: Loose; stack?: { outputs?: Loose } };
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OperatorError(`cannot read local endpoints file ${file}: ${(err as Error).message}`);
  }
  const endpoints = (j.endpoints ?? j) as Record<string, string>;
  const outputs = (j.outputs ?? j.stackOutputs ?? j.stack?.outputs ?? {}) as Record<string, string>;
  const res = (j.resources ?? {}) as Record<string, string>;
  return {
    region: j.region ?? 'us-east-1',
    controlTable: res.controlTable ?? outputs[OUTPUT_KEYS.controlTable] ?? findOutput(outputs, /ControlTable/i),
    featuresTable: res.featuresTable ?? outputs[OUTPUT_KEYS.featuresTable] ?? findOutput(outputs, /FeaturesTable/i),
    stateMachineArn: res.stateMachineArn ?? outputs[OUTPUT_KEYS.stateMachineArn] ?? findOutput(outputs, /StateMachine/i),
    reviewQueueUrl: res.reviewQueueUrl ?? outputs[OUTPUT_KEYS.reviewQueueUrl] ?? findOutput(outputs, /ReviewQueue/i),
    reinstateFunction: res.reinstateFunction ?? outputs[OUTPUT_KEYS.reinstateFunction] ?? findOutput(outputs, /ReinstateFunction/i),
    restrictFunction: res.restrictFunction ?? outputs[OUTPUT_KEYS.restrictFunction] ?? findOutput(outputs, /RestrictFunction/i),
    clusterDecisionFunction:
      res.clusterDecisionFunction ?? outputs[OUTPUT_KEYS.clusterDecisionFunction] ?? findOutput(outputs, /ClusterDecisionFunction/i),
    reviewApiUrl: res.reviewApiUrl ?? outputs[OUTPUT_KEYS.reviewApiUrl] ?? findOutput(outputs, /ReviewApiUrl/i),
    endpoints: {
      dynamodb: endpoints.dynamodb,
      sqs: endpoints.sqs,
      sfn: endpoints.sfn ?? endpoints.stepfunctions,
      api_gateway: endpoints.api_gateway ?? endpoints.apigateway,
      lambda: endpoints.lambda,
    },
    local: true,
  };
}

function findOutput(outputs: Record<string, string>, re: RegExp): string | undefined {
  const k = Object.keys(outputs).find((x) => re.test(x));
  return k ? outputs[k] : undefined;
}

/** Discover the resources from the CloudFormation stack (outputs first, then the resource list). */
export async function discoverFromStack(stackName: string, region: string | undefined): Promise<Partial<EscalationResources>> {
  const cfn = new CloudFormationClient(region ? { region } : {});
  const r = await cfn.send(new DescribeStacksCommand({ StackName: stackName })).catch((err: Error) => {
    throw new OperatorError(`cannot describe stack ${stackName}: ${err.message} (pass --stack NAME and --region, with credentials for that account)`);
  });
  const outputs: Record<string, string> = {};
  for (const o of r.Stacks?.[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
  const found: Partial<EscalationResources> = {
    controlTable: outputs[OUTPUT_KEYS.controlTable],
    featuresTable: outputs[OUTPUT_KEYS.featuresTable],
    stateMachineArn: outputs[OUTPUT_KEYS.stateMachineArn],
    reviewQueueUrl: outputs[OUTPUT_KEYS.reviewQueueUrl],
    reinstateFunction: outputs[OUTPUT_KEYS.reinstateFunction],
    restrictFunction: outputs[OUTPUT_KEYS.restrictFunction],
    clusterDecisionFunction: outputs[OUTPUT_KEYS.clusterDecisionFunction],
    reviewApiUrl: outputs[OUTPUT_KEYS.reviewApiUrl],
  };
  if (!found.controlTable || !found.stateMachineArn || !found.reviewQueueUrl || !found.reinstateFunction) {
    const res = await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }));
    for (const x of res.StackResources ?? []) {
      const id = x.LogicalResourceId ?? '';
      if (x.ResourceType === 'AWS::DynamoDB::Table' && /Control/i.test(id)) found.controlTable ??= x.PhysicalResourceId;
      if (x.ResourceType === 'AWS::DynamoDB::Table' && /Features/i.test(id)) found.featuresTable ??= x.PhysicalResourceId;
      if (x.ResourceType === 'AWS::StepFunctions::StateMachine' && /Escalation/i.test(id)) found.stateMachineArn ??= x.PhysicalResourceId;
      if (x.ResourceType === 'AWS::SQS::Queue' && /ReviewQueue/i.test(id) && !/Dlq/i.test(id)) found.reviewQueueUrl ??= x.PhysicalResourceId;
      if (x.ResourceType === 'AWS::Lambda::Function' && /ReinstateFn/i.test(id)) found.reinstateFunction ??= x.PhysicalResourceId;
      if (x.ResourceType === 'AWS::Lambda::Function' && /RestrictFn/i.test(id)) found.restrictFunction ??= x.PhysicalResourceId;
    }
  }
  const cfgRegion = region ?? (await cfn.config.region());
  return { ...found, region: cfgRegion };
}

export interface QueueEntry {
  caseId: string;
  accountId: string;
  state: CaseState;
  decision: string;
  score: number;
  reasons: string[];
  createdAt: string;
  reviewDeadline?: string;
  ageMs: number;
  /** Negative when overdue. */
  remainingMs?: number;
  /** age / (deadline - created): 0..1 (and beyond when late). */
  deadlineFraction?: number;
  shadow?: boolean;
  clusterId: string | null;
  /** Accounts in the case's cluster, the case's own included. */
  clusterSize: number;
}

export interface DecisionResult {
  caseId: string;
  approved: boolean;
  reviewer: string;
  reason: string;
  decidedAt: string;
}

export class Operator {
  readonly store: EscalationStore;
  readonly sfn: SFNClient;
  readonly lambda: LambdaClient;
  private identityValue?: string;

  constructor(
    readonly resources: EscalationResources,
    private readonly identityOverride?: string,
  ) {
    const ep = resources.endpoints ?? {};
    const local = resources.local;
    const creds = local ? { accessKeyId: 'AKIALOCALDISTILLGUARD', secretAccessKey: 'local-secret-not-checked' } : undefined;
    const cfg = (endpoint?: string) => ({ region: resources.region, ...(endpoint ? { endpoint } : {}), ...(creds ? { credentials: creds } : {}) });
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(cfg(ep.dynamodb)), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    });
    this.store = new EscalationStore({
      tableName: resources.controlTable,
      featuresTableName: resources.featuresTable,
      ddb,
      apigw: new APIGatewayClient(cfg(ep.api_gateway)),
    });
    this.sfn = new SFNClient(cfg(ep.sfn));
    this.lambda = new LambdaClient(cfg(ep.lambda));
  }

  /** Close the SDK clients' sockets. */
  destroy(): void {
    this.store.ddb.destroy();
    this.store.apigw.destroy();
    this.sfn.destroy();
    this.lambda.destroy();
  }

  /** Who is acting: the STS caller ARN in AWS; locally `local:<user>` (or the override). */
  async identity(): Promise<string> {
    if (this.identityValue) return this.identityValue;
    if (this.resources.local) {
      this.identityValue =
        this.identityOverride ?? `local:${process.env.DISTILL_GUARD_REVIEWER ?? process.env.USER ?? process.env.USERNAME ?? 'operator'}`;
    } else {
      const sts = new STSClient({ region: this.resources.region });
      const r = await sts.send(new GetCallerIdentityCommand({}));
      if (!r.Arn) throw new OperatorError('sts get-caller-identity returned no arn');
      this.identityValue = r.Arn;
    }
    return this.identityValue;
  }

  // ---------------- cases ----------------

  /** The review queue, oldest first, with age against deadline (plus overdue cases when asked). */
  async queue(states: CaseState[] = ['review']): Promise<QueueEntry[]> {
    const now = this.store.now();
    const all = (await Promise.all(states.map((s) => this.store.listCases(s)))).flat();
    return all
      .map((c) => {
        const created = Date.parse(c.createdAt);
        const deadline = c.reviewDeadline ? Date.parse(c.reviewDeadline) : undefined;
        return {
          caseId: c.caseId,
          accountId: c.accountId,
          state: c.state,
          decision: c.decision,
          score: c.score,
          reasons: c.reasons,
          createdAt: c.createdAt,
          reviewDeadline: c.reviewDeadline,
          ageMs: now - created,
          remainingMs: deadline !== undefined ? deadline - now : undefined,
          deadlineFraction: deadline !== undefined && deadline > created ? (now - created) / (deadline - created) : undefined,
          shadow: c.shadow,
          clusterId: c.clusterId,
          clusterSize: 1 + (c.relatedAccountIds ?? []).filter((a) => a !== c.accountId).length,
        };
      })
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async recentCases(limit = 50): Promise<CaseRecord[]> {
    return (await this.store.queryState(caseStateGsiPk('closed'), { limit, ascending: false })) as unknown as CaseRecord[];
  }

  async show(caseId: string): Promise<{ case: CaseRecord; audit: AuditEntry[]; account?: AccountStatus }> {
    assertId('caseId', caseId);
    const c = await this.store.requireCase(caseId);
    const [audit, account] = await Promise.all([this.store.auditTrail(caseId), this.store.getAccount(c.accountId)]);
    return { case: c, audit, account };
  }

  /**
   * Approve (suspend, or restrict with `action: 'restrict'`) or reject a case under review through the review API. The API records the signed caller (your
   * credentials) as the reviewer, writes the decision on the case and completes the review task; the workflow
   * audits the decision and applies it.
   */
  async decide(
    caseId: string,
    approved: boolean,
    reason: string,
    opts: { action?: 'suspend' | 'restrict'; clusterCaseId?: string } = {},
  ): Promise<DecisionResult> {
    assertId('caseId', caseId);
    if (typeof reason !== 'string' || reason.trim().length < 3)
      throw new OperatorError(`a reason is required (at least 3 characters), got ${JSON.stringify(reason ?? '')}`);
    const r = await this.callReviewApi<DecisionResult>('decide', { caseId, approved, reason: reason.trim(), ...opts });
    return { caseId: r.caseId, approved: r.approved, reviewer: r.reviewer, reason: r.reason, decidedAt: r.decidedAt };
  }

  /** Reset the Review state's heartbeat clock (only needed when the stack sets reviewHeartbeat). */
  async heartbeat(caseId: string): Promise<void> {
    assertId('caseId', caseId);
    await this.callReviewApi('heartbeat', { caseId });
  }

  /** A case that has just entered review may not have its task token stored yet: retry that answer briefly. */
  private async callReviewApi<T>(route: string, body: Record<string, unknown>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reviewApi().call<T>(route, body);
      } catch (err) {
        if (attempt >= 20 || !(err as Error).message.includes(NOT_STORED_YET)) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private reviewApiClient?: ReviewApiClient;

  /** The signed client of the review API: your default credential chain; locally a local principal's keys. */
  private reviewApi(): ReviewApiClient {
    if (this.reviewApiClient) return this.reviewApiClient;
    const url = this.resources.reviewApiUrl;
    if (!url) throw new OperatorError('the review api url is unknown (stack output EscalationReviewApiUrl); deploy the current stack');
    let credentials: Credentials;
    if (this.resources.local) {
      const name = (this.identityOverride ?? process.env.DISTILL_GUARD_REVIEWER ?? process.env.USER ?? process.env.USERNAME ?? 'operator').replace(
        /^local:/,
        '',
      );
      credentials = localPrincipal(name);
    } else {
      credentials = fromNodeProviderChain();
    }
    this.reviewApiClient = new ReviewApiClient(url, this.resources.region, credentials);
    return this.reviewApiClient;
  }

  /** What every request to an operator function carries: a valid account id, the reason, and who asks. */
  private async operatorRequest(accountId: string, reason: string): Promise<{ accountId: string; reason: string; actor: string }> {
    assertId('accountId', accountId);
    if (typeof reason !== 'string' || reason.trim().length < 3)
      throw new OperatorError(`a reason is required (at least 3 characters), got ${JSON.stringify(reason ?? '')}`);
    return { accountId, reason: reason.trim(), actor: await this.identity() };
  }

  /**
   * Reinstate a suspended account by invoking the stack's reinstatement function (stack output
   * EscalationReinstateFunctionName): it re-enables the keys, restores the status and writes the audit entry and
   * the `Account Reinstated` event. Operators never write the account status themselves.
   */
  async reinstate(accountId: string, reason: string): Promise<{ reinstated: boolean; keys: string[]; caseId: string }> {
    const req: ReinstateRequest = await this.operatorRequest(accountId, reason);
    const out = await this.invokeOperatorFunction<ReinstateResponse>(
      this.resources.reinstateFunction,
      'reinstatement',
      'EscalationReinstateFunctionName',
      req,
    );
    if (!out.ok) throw new OperatorError(out.error);
    return { reinstated: out.reinstated, keys: out.keys, caseId: out.caseId };
  }

  /**
   * Restrict an account by hand (the step between review and suspend) by invoking the stack's restriction function
   * (stack output EscalationRestrictFunctionName): its keys move to the throttled usage plan, its status carries the
   * step-up flag, and the audit entry and `Account Restricted` event are written. `review reinstate` lifts it.
   */
  async restrict(
    accountId: string,
    reason: string,
    durationHours?: number,
  ): Promise<{ outcome: 'restricted' | 'allowlisted'; restrictedUntil?: number; keys: string[]; caseId?: string }> {
    const req: RestrictRequest = { ...(await this.operatorRequest(accountId, reason)), durationHours: durationHours ?? DEFAULT_RESTRICT_HOURS };
    const out = await this.invokeOperatorFunction<RestrictResponse>(
      this.resources.restrictFunction,
      'restriction',
      'EscalationRestrictFunctionName',
      req,
    );
    if (!out.ok) throw new OperatorError(out.error);
    return {
      outcome: out.outcome,
      keys: out.keys,
      ...(out.restrictedUntil ? { restrictedUntil: out.restrictedUntil } : {}),
      ...(out.caseId ? { caseId: out.caseId } : {}),
    };
  }

  /** Invoke one of the stack's operator functions; a function error becomes a plain error with its message. */
  private async invokeOperatorFunction<T extends { ok: boolean }>(fn: string | undefined, what: string, output: string, req: unknown): Promise<T> {
    if (!fn) throw new OperatorError(`the ${what} function is unknown (stack output ${output}); deploy the current stack`);
    const r = await this.lambda.send(new InvokeCommand({ FunctionName: fn, Payload: new TextEncoder().encode(JSON.stringify(req)) }));
    const text = r.Payload ? new TextDecoder().decode(r.Payload) : 'null';
    let out: T | { errorType?: string; errorMessage?: string } | null;
    try {
      out = JSON.parse(text);
    } catch {
      out = null;
    }
    if (r.FunctionError || !out || !('ok' in out)) {
      const e = (out ?? {}) as { errorType?: string; errorMessage?: string };
      throw new Error(`${what} function ${fn} failed: ${e.errorType ?? r.FunctionError ?? 'Error'}: ${e.errorMessage ?? text.slice(0, 300)}`);
    }
    return out;
  }

  async suspended() {
    return suspendedAccounts(this.store);
  }

  // ---------------- allowlist ----------------

  async allowlistAdd(accountId: string, owner: string, reason: string, expiresAtMs: number) {
    return allowlistAdd(this.store, { accountId, owner, reason, expiresAtMs, actor: await this.identity() });
  }
  allowlistList() {
    return allowlistList(this.store);
  }
  async allowlistRemove(accountId: string, reason: string) {
    return allowlistRemove(this.store, accountId, await this.identity(), reason);
  }

  // ---------------- breaker and shadow ----------------

  /** Breaker state and counts; `withActive` also counts active accounts (32 small queries on the features table). */
  async breakerStatus(opts: { withActive?: boolean } = {}) {
    const now = this.store.now();
    const [state, counts, active] = await Promise.all([
      getBreaker(this.store),
      breakerCounts(this.store, now),
      opts.withActive === false ? Promise.resolve(undefined) : activeAccounts(this.store, now).catch(() => undefined),
    ]);
    return { ...state, lastHour: suspensionsLastHour(counts.current, counts.previous, now), counts, activeAccounts: active };
  }
  async breakerRearm(reason: string) {
    if (typeof reason !== 'string' || reason.trim().length < 3) throw new OperatorError('a reason is required to re-arm the breaker');
    return rearmBreaker(this.store, await this.identity(), reason.trim());
  }
  shadowStatus(defaults: ShadowConfig = { global: false, signals: [] }) {
    return getShadow(this.store, defaults);
  }
  async setShadow(cfg: ShadowConfig, reason: string) {
    if (typeof reason !== 'string' || reason.trim().length < 3) throw new OperatorError('a reason is required to change shadow mode');
    return setShadow(this.store, cfg, await this.identity(), reason.trim());
  }
}

/** Resolve the resources (local file, explicit, or CloudFormation) and build an Operator. */
export async function connect(opts: ConnectOptions = {}): Promise<Operator> {
  const file = opts.endpointsFile ?? path.resolve(process.cwd(), '.local', 'endpoints.json');
  const useLocal = opts.local ?? (!opts.stack && !opts.resources?.controlTable && fs.existsSync(file));
  let res: Partial<EscalationResources> = {};
  if (useLocal) res = readLocalEndpoints(file);
  else if (!opts.resources?.controlTable) res = await discoverFromStack(opts.stack ?? 'DistillGuard', opts.region);
  res = { ...res, ...stripUndefined(opts.resources ?? {}) };
  if (opts.region) res.region = opts.region;
  if (!res.controlTable) throw new OperatorError('cannot find the control table (stack output EscalationControlTableName)');
  return new Operator(
    {
      region: res.region ?? process.env.AWS_REGION ?? 'us-east-1',
      controlTable: res.controlTable,
      featuresTable: res.featuresTable,
      stateMachineArn: res.stateMachineArn,
      reviewQueueUrl: res.reviewQueueUrl,
      reinstateFunction: res.reinstateFunction,
      restrictFunction: res.restrictFunction,
      clusterDecisionFunction: res.clusterDecisionFunction,
      reviewApiUrl: res.reviewApiUrl,
      endpoints: res.endpoints,
      local: res.local ?? useLocal,
    },
    opts.identity,
  );
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
