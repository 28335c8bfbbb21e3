/**
 * Demo API Lambda REQUEST authorizer (thin adapter over src/ingest/demo-auth.ts).
 *
 * Resolves the account from `Authorization: Bearer <accountId>`, reads `ACCOUNT#<id>` / `STATUS` from the
 * control table (strongly consistent, so a suspension bites on the next request), and returns
 * principalId = accountId and context.accountCreatedAt, the two values the access log records (docs/contract.md, access-log record), plus
 * context.stepUp (`"true"` while a restriction asks the account to step up; the provider's integration or its own
 * flows read `$context.authorizer.stepUp`).
 * A malformed header is a 401 (`Unauthorized`); a suspended account an explicit Deny (403). A table error
 * fails closed (API Gateway answers 500) rather than letting a suspended account through.
 *
 * Env: CONTROL_TABLE, ALLOW_UNKNOWN_ACCOUNTS ('true' | 'false').
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { accountIdFromHeaders, decideAccess, stageWildcardArn, type AccountStatusItem } from '../../src/ingest/demo-auth';
import { keys } from '../../src/shared/tables';
import { requireEnv } from '../shared/env';
import { logger, metrics, MetricUnit } from '../shared/powertools';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const table = requireEnv('CONTROL_TABLE');
  const allowUnknownAccounts = (process.env.ALLOW_UNKNOWN_ACCOUNTS ?? 'true') !== 'false';
  try {
    const accountId = accountIdFromHeaders(event.headers as Record<string, string | undefined> | null);
    if (!accountId) {
      metrics.addMetric('AuthorizerMalformedCredential', MetricUnit.Count, 1);
      // The one message API Gateway maps to 401.
      throw new Error('Unauthorized');
    }
    const res = await doc.send(
      new GetCommand({
        TableName: table,
        Key: keys.accountStatus(accountId),
        ProjectionExpression: '#s, suspendedUntil, createdAt, stepUp, restrictedUntil',
        ExpressionAttributeNames: { '#s': 'status' },
        ConsistentRead: true,
      }),
    );
    const decision = decideAccess(accountId, res.Item as AccountStatusItem | undefined, Date.now(), { allowUnknownAccounts });
    metrics.addMetric(decision.effect === 'Allow' ? 'AuthorizerAllow' : 'AuthorizerDeny', MetricUnit.Count, 1);
    if (decision.effect === 'Deny') logger.info('access denied', { accountId, reason: decision.reason });
    if (decision.stepUp) metrics.addMetric('AuthorizerStepUp', MetricUnit.Count, 1);
    // Context values are strings: API Gateway maps them to `$context.authorizer.<name>`.
    const context: Record<string, string> = { accountStatus: decision.reason, stepUp: String(decision.stepUp) };
    if (decision.accountCreatedAt !== null) context.accountCreatedAt = decision.accountCreatedAt;
    return {
      principalId: accountId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: decision.effect, Resource: stageWildcardArn(event.methodArn) }],
      },
      context,
    };
  } finally {
    metrics.publishStoredMetrics();
  }
}
