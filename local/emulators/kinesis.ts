/**
 * Kinesis emulator: kinesalite, in this process, with its in-memory store (memdown; nothing written to disk),
 * on a free loopback port.
 *
 * Clients MUST use an HTTP/1.1 handler: `new KinesisClient({ endpoint, requestHandler: new NodeHttpHandler() })`
 * (use `kinesisClient(endpoint)` below). Without it the SDK's Kinesis client negotiates HTTP/2 for some operations,
 * which kinesalite does not speak. Address streams by name (StreamName), as kinesalite predates StreamARN inputs.
 */
import { AddressInfo } from 'net';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { RunningEmulator } from './dynamodb-local';
import { localClientConfig } from '../services/clients';

export interface KinesisEmulatorOptions {
  /** @default a free port */
  readonly port?: number;
  /** Simulated CreateStream / DeleteStream / UpdateShardCount latency (ms). @default 0 */
  readonly streamLatencyMs?: number;
  /** Max shards per account. @default 200 */
  readonly shardLimit?: number;
}

// kinesalite ships no types.
type KinesaliteFactory = (o: Record<string, unknown>) => import('http').Server;

/** Start kinesalite on 127.0.0.1 with an in-memory store. */
export async function startKinesis(opts: KinesisEmulatorOptions = {}): Promise<RunningEmulator> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kinesalite = require('kinesalite') as KinesaliteFactory;
  const ms = opts.streamLatencyMs ?? 0;
  // no `path` option => memdown (in-memory); see node_modules/kinesalite/db/index.js
  const server = kinesalite({ createStreamMs: ms, deleteStreamMs: ms, updateStreamMs: ms, shardLimit: opts.shardLimit ?? 200 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** A KinesisClient for the local emulator, with the HTTP/1.1 NodeHttpHandler kinesalite needs. */
export function kinesisClient(endpoint?: string, region?: string): KinesisClient {
  return new KinesisClient(localClientConfig('kinesis', endpoint, region));
}
