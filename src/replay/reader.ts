/**
 * Replay's reader thread: reads, gunzips and merges both inputs, parses every line and admits it as the
 * aggregator would (duplicates dropped, usage cross-checked against its request's account, every skip counted),
 * and hands the items over in batches (wire.ts) while the detection thread aggregates and detects
 * (threaded.ts). At most `maxInFlight` batches wait unread, so a slow detection thread holds the reader back
 * instead of filling memory.
 */
import type { MessagePort } from 'node:worker_threads';
import { ReplayAggregator, type ReplayAggregatorOptions } from '../aggregate/replay';
import { forEachItem, type Item } from './items';
import { InputError } from './lines';
import { BatchWriter, ItemKind, transferList, type Batch } from './wire';

export interface ReaderData {
  logs: string;
  usage?: string;
  aggregator: ReplayAggregatorOptions;
  /** Items per batch. */
  batchItems: number;
  /** Batches sent and not yet acknowledged before the reader waits. */
  maxInFlight: number;
}

/** Messages from the reader: a batch, the end (with the counts the reader kept), or the error that stopped it. */
export type ReaderMessage =
  | { type: 'batch'; batch: Batch }
  | { type: 'done'; stats: Record<string, unknown>; emptyLines: number }
  | { type: 'error'; message: string; input: boolean };

/** Messages to the reader: one batch was read. */
export type ReaderAck = { type: 'ack' };

/** Runs the reader on `port` until both inputs are read; reports its error, if any, as a message. */
export async function runReader(data: ReaderData, port: MessagePort): Promise<void> {
  try {
    await read(data, port);
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message, input: err instanceof InputError } satisfies ReaderMessage);
  }
}

async function read(data: ReaderData, port: MessagePort): Promise<void> {
  const agg = new ReplayAggregator(data.aggregator);
  const writer = new BatchWriter(data.batchItems);
  const bytes = { logs: { bytes: 0 }, usage: { bytes: 0 } };
  const counts = { emptyLines: 0 };
  const credit = new Credit(data.maxInFlight);
  port.on('message', () => credit.release());
  const pending: Batch[] = [];
  const onItem = (item: Item): void => {
    if (item.kind === 'log') {
      const e = agg.admitLogLine(item.value);
      if (e) writer.request(item.ts, e);
      else writer.item(ItemKind.Log, item.ts);
    } else {
      const u = agg.admitUsageLine(item.value);
      if (u) writer.usage(item.ts, u);
      else writer.item(ItemKind.Usage, item.ts);
    }
    if (writer.full) pending.push(writer.take(bytes.logs.bytes + bytes.usage.bytes));
  };
  // Items arrive synchronously within a chunk of lines; full batches are sent between chunks, when credit allows.
  const send = async (): Promise<void> => {
    while (pending.length > 0) {
      await credit.acquire();
      const batch = pending.shift()!;
      port.postMessage({ type: 'batch', batch } satisfies ReaderMessage, transferList(batch));
    }
  };
  await forEachItem(data, onItem, counts, bytes, send);
  if (writer.count > 0) pending.push(writer.take(bytes.logs.bytes + bytes.usage.bytes));
  await send();
  const done: ReaderMessage = { type: 'done', stats: agg.stats.toJSON(), emptyLines: counts.emptyLines };
  port.postMessage(done);
  port.close();
}

/** A counting semaphore: `acquire` waits while `max` batches are unacknowledged. */
class Credit {
  private free: number;
  private waiting: (() => void)[] = [];
  constructor(max: number) {
    this.free = max;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
