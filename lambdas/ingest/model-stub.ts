/**
 * Demo model endpoint POST /v1/models/{model}/messages (thin adapter over src/ingest/demo-serving.ts).
 *
 * Answers with a canned Messages-API-shaped response and, playing the model-serving tier, puts a
 * usage event (docs/contract.md) on the ingestion stream (partition key = accountId). The usage event is best effort: a Kinesis
 * error is logged and counted, never turned into a failed model call.
 *
 * Env: USAGE_STREAM_NAME (unset = no usage events).
 */
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { handleStubRequest } from '../../src/ingest/demo-serving';
import { logger, metrics, MetricUnit } from '../shared/powertools';

// HTTP/1.1: PutRecord needs no HTTP/2, and the local Kinesis emulator (kinesalite) speaks only HTTP/1.1.
const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const accountId = String(event.requestContext?.authorizer?.principalId ?? '-');
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const result = handleStubRequest({
      accountId,
      requestId,
      model: event.pathParameters?.model ?? '',
      body,
      now: event.requestContext?.requestTimeEpoch ?? Date.now(),
    });
    if (!result.ok) {
      metrics.addMetric('StubBadRequest', MetricUnit.Count, 1);
      return json(result.statusCode, { type: 'error', error: { type: 'invalid_request_error', message: result.error } });
    }
    const streamName = process.env.USAGE_STREAM_NAME;
    if (streamName) {
      try {
        await kinesis.send(
          new PutRecordCommand({
            StreamName: streamName,
            PartitionKey: accountId,
            Data: Buffer.from(JSON.stringify(result.usage)),
          }),
        );
        metrics.addMetric('UsageEventsPut', MetricUnit.Count, 1);
      } catch (err) {
        metrics.addMetric('UsageEventsFailed', MetricUnit.Count, 1);
        logger.warn('usage event not delivered', { requestId, error: (err as Error).message });
      }
    }
    return json(200, result.response);
  } finally {
    metrics.publishStoredMetrics();
  }
}
