/**
 * Replay on two threads. The reader thread (reader.ts) reads, gunzips, merges, parses and admits both inputs; this
 * thread aggregates the admitted events and runs detection, as `replayFiles` does on one thread. The items, their
 * order and the code that handles each are the same, so the report is the same, account by account
 * (test/replay/threaded.test.ts); parsing a batch overlaps detecting on the one before.
 */
import type { Worker } from 'node:worker_threads';
import type { ReplayReport } from '../shared/contract';
import { aggregatorOptions, inputBytes, newEngine, progressReporter, type ReplayEngine, type ReplayOptions } from './index';
import { InputError } from './lines';
import type { ReaderAck, ReaderData, ReaderMessage } from './reader';
import { BatchReader, type Batch } from './wire';

/** Items per batch: large enough that a batch costs one message, small enough to keep both threads busy. */
export const BATCH_ITEMS = 8192;
/** Batches the reader may run ahead of detection. */
export const MAX_IN_FLIGHT = 4;

/** Starts the reader thread on `data` (compiled.ts runs it from a bundle). */
export type StartReader = (data: ReaderData) => Worker;

/** Replay files on two threads; throws InputError on unreadable input, as `replayFiles` does. */
export async function replayThreaded(opts: ReplayOptions, startReader: StartReader): Promise<ReplayReport> {
  const aggregator = aggregatorOptions(opts);
  const engine = newEngine(opts, aggregator);
  const progress = progressReporter(engine, opts, await inputBytes(opts));
  const worker = startReader({ logs: opts.logs, usage: opts.usage, aggregator, batchItems: BATCH_ITEMS, maxInFlight: MAX_IN_FLIGHT });
  const reader = new BatchReader();
  const add = engine.addAdmitted.bind(engine);
  try {
    const done = await consume(worker, (batch) => {
      reader.read(batch, add);
      progress(batch.bytesRead);
    });
    engine.emptyLines = done.emptyLines;
    restoreStats(engine, done.stats);
  } finally {
    await worker.terminate();
  }
  const report = engine.finish();
  opts.onEngine?.(engine);
  return report;
}

/** Feeds each batch to `onBatch` (acknowledging it), until the reader is done or fails. */
function consume(worker: Worker, onBatch: (b: Batch) => void): Promise<Extract<ReaderMessage, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    worker.on('message', (m: ReaderMessage) => {
      if (m.type === 'done') return resolve(m);
      if (m.type === 'error') return reject(m.input ? new InputError(m.message) : new Error(`replay reader: ${m.message}`));
      try {
        onBatch(m.batch);
        worker.postMessage({ type: 'ack' } satisfies ReaderAck);
      } catch (err) {
        reject(err as Error);
      }
    });
    worker.on('error', (err) => reject(new Error(`replay reader failed: ${err.message}`)));
    worker.on('exit', (code) => reject(new Error(`replay reader exited (code ${code}) before the end of the input`)));
  });
}

/** The reader counted lines, skips and duplicates: its counts become the engine's. */
function restoreStats(engine: ReplayEngine, json: Record<string, unknown>): void {
  const stats = engine.agg.stats;
  const j = json as { lines: number; requests: number; usage: number; skipped: number; skippedByReason: Record<string, number>; duplicates: number };
  stats.lines = j.lines;
  stats.requests = j.requests;
  stats.usage = j.usage;
  stats.duplicates = j.duplicates;
  for (const [reason, n] of Object.entries(j.skippedByReason)) stats.skip(reason as Parameters<typeof stats.skip>[0], n);
  if (stats.skipped !== j.skipped) throw new Error(`replay reader: skip counts disagree (${stats.skipped} vs ${j.skipped})`);
}
