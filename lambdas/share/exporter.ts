/**
 * Scheduled indicator export (EventBridge schedule -> this function). Thin adapter around exporter-core.ts:
 * wiring from the environment the IndicatorSharing construct sets; SDK clients take their endpoint from the
 * environment (AWS_ENDPOINT_URL_<SERVICE> locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { TLP } from '../../src/share/stix';
import type { Tlp } from '../../src/share/stix';
import { EscalationStore } from '../escalate/store';
import { logger } from '../shared/powertools';
import { getSecretString } from '../shared/secrets-manager';
import { exportConfirmed } from './exporter-core';
import type { Partner } from './exporter-core';
import { requireEnv } from '../shared/env';

function partners(raw: string): Partner[] {
  const list = JSON.parse(raw) as Partner[];
  if (!Array.isArray(list) || list.some((p) => typeof p?.name !== 'string' || typeof p.keyId !== 'string' || typeof p.keySecretArn !== 'string')) {
    throw new Error(`PARTNERS must be a JSON list of {name, keyId, keySecretArn}, got ${raw.slice(0, 200)}`);
  }
  return list;
}

export const handler = async (event: { time?: string } = {}, context?: Context) => {
  if (context) logger.addContext(context);
  const t = event.time ? Date.parse(event.time) : NaN;
  const tlp = (process.env.TLP ?? 'amber') as Tlp;
  if (!(tlp in TLP)) throw new Error(`TLP must be white, green, amber or red, got ${JSON.stringify(tlp)}`);
  const ddb = new DynamoDBClient({});
  const exported = await exportConfirmed({
    ddb,
    s3: new S3Client({}),
    events: new EventBridgeClient({}),
    store: new EscalationStore({ tableName: requireEnv('CONTROL_TABLE'), featuresTableName: requireEnv('FEATURES_TABLE'), manageApiKeys: false }),
    featuresTable: requireEnv('FEATURES_TABLE'),
    bucket: requireEnv('BUCKET'),
    busName: requireEnv('EVENT_BUS_NAME'),
    producer: requireEnv('PRODUCER'),
    partners: partners(requireEnv('PARTNERS')),
    readSecret: (arn) => getSecretString(arn),
    lookbackHours: Number(process.env.LOOKBACK_HOURS ?? '72'),
    validDays: Number(process.env.VALID_DAYS ?? '30'),
    tlp,
    now: Number.isFinite(t) ? t : Date.now(),
  });
  logger.info('indicators exported', { exports: exported.length, partners: exported.map((e) => e.partner) });
  return { exports: exported };
};
