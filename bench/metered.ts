/**
 * A DynamoDB client wrapper for the benchmarks: asks every request for its consumed capacity
 * (`ReturnConsumedCapacity: INDEXES`; DynamoDB Local reports table and per-index units like DynamoDB does) and
 * adds it up per table and per index, plus request counts per command. The wrapped client is passed to the code
 * under test unchanged, so what is measured is exactly what the shipped code sends.
 */
import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

const METERED = new Set([
  'UpdateItemCommand',
  'PutItemCommand',
  'DeleteItemCommand',
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

export interface Meter {
  /** Capacity units on tables (base table only). */
  table: number;
  /** Capacity units on global secondary indexes. */
  gsi: number;
  /** Requests sent, per command name. */
  requests: Record<string, number>;
  /** Requests that failed, per error name. */
  errors: Record<string, number>;
  /** The same units per table name: base table and its global secondary indexes. */
  byTable: Record<string, { table: number; gsi: number }>;
  reset(): void;
}

function add(m: Meter, c: ConsumedCapacity | undefined): void {
  if (!c) return;
  let table = 0;
  let gsi = 0;
  if (c.Table?.CapacityUnits !== undefined || c.GlobalSecondaryIndexes || c.LocalSecondaryIndexes) {
    table = c.Table?.CapacityUnits ?? 0;
    for (const g of Object.values(c.GlobalSecondaryIndexes ?? {})) gsi += g.CapacityUnits ?? 0;
  } else {
    table = c.CapacityUnits ?? 0;
  }
  m.table += table;
  m.gsi += gsi;
  const t = (m.byTable[c.TableName ?? '?'] ??= { table: 0, gsi: 0 });
  t.table += table;
  t.gsi += gsi;
}

export function metered(ddb: DynamoDBClient): { client: DynamoDBClient; meter: Meter } {
  const meter: Meter = {
    table: 0,
    gsi: 0,
    requests: {},
    errors: {},
    byTable: {},
    reset() {
      this.table = 0;
      this.gsi = 0;
      this.requests = {};
      this.errors = {};
      this.byTable = {};
    },
  };
  const send = ddb.send.bind(ddb) as (cmd: unknown) => Promise<Record<string, unknown>>;
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = cmd.constructor.name;
      meter.requests[name] = (meter.requests[name] ?? 0) + 1;
      if (METERED.has(name) && cmd.input.ReturnConsumedCapacity === undefined) cmd.input.ReturnConsumedCapacity = 'INDEXES';
      try {
        const r = await send(cmd);
        const cc = r.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
        for (const c of Array.isArray(cc) ? cc : [cc]) add(meter, c);
        return r;
      } catch (err) {
        const e = (err as { name?: string }).name ?? 'Error';
        meter.errors[e] = (meter.errors[e] ?? 0) + 1;
        throw err;
      }
    },
    destroy: () => ddb.destroy(),
  } as unknown as DynamoDBClient;
  return { client, meter };
}
