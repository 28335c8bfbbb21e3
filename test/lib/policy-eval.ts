/**
 * A small IAM evaluator for the statements of a synthesized template, so tests can ask "would this request be
 * allowed?" instead of pattern-matching policy JSON. It evaluates Effect, Action (with wildcards), Resource (through
 * a predicate, since resources are CloudFormation intrinsics here) and the condition operators distill-guard uses:
 * String/Arn (Not)Equals/(Not)Like and Bool, with the `ForAllValues:` / `ForAnyValue:` set qualifiers and the
 * `IfExists` suffix. An explicit Deny wins over any Allow; no matching Allow is an implicit deny.
 *
 * Not a full IAM engine (no NotAction/NotResource, no policy variables, no numeric/date operators): enough to test
 * the `dynamodb:LeadingKeys` / `dynamodb:Attributes` scoping of the roles and the bus policy's source rule.
 */

export interface PolicyRequest {
  /** e.g. `dynamodb:PutItem`. */
  action: string;
  /** Whether a statement's Resource entry (a CloudFormation value) covers the requested resource. */
  resource: (resource: unknown) => boolean;
  /** Condition keys of the request; multi-valued keys (dynamodb:LeadingKeys, dynamodb:Attributes) as arrays. */
  context?: Record<string, string | string[] | undefined>;
  /** For resource policies: the calling principal's ARN (matched against `Principal`). @default any principal */
  principalArn?: string;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function actionMatches(statement: any, action: string): boolean {
  return list(statement.Action).some((a) => typeof a === 'string' && wildcard(a.toLowerCase()).test(action.toLowerCase()));
}

function principalMatches(statement: any, arn: string | undefined): boolean {
  if (statement.Principal === undefined || arn === undefined) return true;
  if (statement.Principal === '*') return true;
  return list(statement.Principal?.AWS).some((p) => p === '*' || (typeof p === 'string' && p === arn));
}

function compare(op: string, policyValue: string, requestValue: string): boolean {
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return policyValue === requestValue;
    case 'StringEqualsIgnoreCase':
      return policyValue.toLowerCase() === requestValue.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return wildcard(policyValue).test(requestValue);
    case 'Bool':
      return policyValue.toLowerCase() === requestValue.toLowerCase();
    default:
      throw new Error(`policy-eval does not support condition operator ${op}`);
  }
}

/** One `Operator: { key: values }` block entry. */
function conditionHolds(rawOp: string, key: string, policyValues: unknown, ctx: PolicyRequest['context']): boolean {
  let op = rawOp;
  let set: 'all' | 'any' | undefined;
  if (op.startsWith('ForAllValues:')) [set, op] = ['all', op.slice('ForAllValues:'.length)];
  else if (op.startsWith('ForAnyValue:')) [set, op] = ['any', op.slice('ForAnyValue:'.length)];
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  const negated = /^(String|Arn)Not/.test(op);
  const positiveOp = negated ? op.replace('Not', '') : op;
  const wanted = list(policyValues).map(String);
  const raw = ctx?.[key];
  const values = raw === undefined ? undefined : list(raw).map(String);
  const matchesAny = (v: string) => wanted.some((w) => compare(positiveOp, w, v));
  if (values === undefined || values.length === 0) {
    if (set === 'all') return true; // vacuously true (AWS semantics)
    if (set === 'any') return false;
    return ifExists || negated;
  }
  if (set === 'all') return values.every((v) => (negated ? !matchesAny(v) : matchesAny(v)));
  if (set === 'any') return values.some((v) => (negated ? !matchesAny(v) : matchesAny(v)));
  return values.some((v) => (negated ? !matchesAny(v) : matchesAny(v)));
}

function conditionsHold(statement: any, ctx: PolicyRequest['context']): boolean {
  for (const [op, block] of Object.entries<Record<string, unknown>>(statement.Condition ?? {})) {
    for (const [key, values] of Object.entries(block)) if (!conditionHolds(op, key, values, ctx)) return false;
  }
  return true;
}

function applies(statement: any, req: PolicyRequest): boolean {
  return (
    actionMatches(statement, req.action) &&
    list(statement.Resource).some((r) => req.resource(r)) &&
    principalMatches(statement, req.principalArn) &&
    conditionsHold(statement, req.context)
  );
}

/** The decision of `statements` (one principal's policies, or one resource policy) for `req`. */
export function evaluate(statements: any[], req: PolicyRequest): Decision {
  const matching = statements.filter((s) => applies(s, req));
  if (matching.some((s) => s.Effect === 'Deny')) return 'explicit-deny';
  return matching.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}
