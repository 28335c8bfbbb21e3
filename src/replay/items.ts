/**
 * Replay's input as items: both files' lines merged in time order, each with its time, parsed as JSON once. Shared
 * by the in-process replay (index.ts) and the reader thread (reader.ts), so both see the same items in the same
 * order.
 */
import { MAX_LINE_CHARS } from '../ingest/parse';
import { readLineBatches, type ReadProgress } from './lines';

/** A line of either input, in the merge's order, with its time (the line's own, or the merge's clock). */
export type Item = { kind: 'log' | 'usage'; ts: number; value: string | object };

/**
 * The timestamp a CloudWatch Logs export (to S3, or `aws logs` output) puts before each message:
 * `2026-11-02T00:00:01.000Z {"requestId":...}`. Stripped so that exported access logs replay as they are.
 */
const CWL_PREFIX = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s+(?=\{)/;

export function stripTimestampPrefix(line: string): string {
  return line.charCodeAt(0) === 123 /* { */ ? line : line.replace(CWL_PREFIX, '');
}

function toItem(kind: 'log' | 'usage', rawLine: string, fallbackTs: number): Item {
  const line = stripTimestampPrefix(rawLine);
  if (line.length > MAX_LINE_CHARS) return { kind, ts: fallbackTs, value: line };
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return { kind, ts: fallbackTs, value: line };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { kind, ts: fallbackTs, value: line };
  const raw = kind === 'log' ? (obj as Record<string, unknown>).requestTimeEpoch : (obj as Record<string, unknown>).timestamp;
  const ts = Number(raw);
  return { kind, ts: Number.isFinite(ts) && ts > 0 ? ts : fallbackTs, value: obj };
}

/** One input's lines, a chunk at a time: `take` is synchronous until the chunk is used up, then `fill` awaits the next. */
class LineSource {
  private batch: string[] = [];
  private i = 0;
  constructor(private readonly it: AsyncIterator<string[]>) {}
  take(): string | undefined {
    return this.i < this.batch.length ? this.batch[this.i++] : undefined;
  }
  async fill(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.batch = r.value;
    this.i = 0;
    return true;
  }
}

/**
 * Both inputs' items merged in time order, one at a time into `onItem` (synchronously within a chunk of lines).
 * Blank lines are counted in `counts.emptyLines`; `read` follows the bytes read of each file; `onChunkEnd` runs
 * between chunks (the reader thread sends its full batches then).
 */
export async function forEachItem(
  files: { logs: string; usage?: string },
  onItem: (item: Item) => void,
  counts: { emptyLines: number },
  read: { logs: ReadProgress; usage: ReadProgress },
  onChunkEnd?: () => Promise<void>,
): Promise<void> {
  const logs = new LineSource(readLineBatches(files.logs, '--logs', read.logs)[Symbol.asyncIterator]());
  const usage = files.usage ? new LineSource(readLineBatches(files.usage, '--usage', read.usage)[Symbol.asyncIterator]()) : null;
  let clock = 0;
  // The next item of a source within its current chunk (undefined: the chunk is used up).
  const pull = (src: LineSource, kind: 'log' | 'usage'): Item | undefined => {
    for (;;) {
      const line = src.take();
      if (line === undefined) return undefined;
      if (line.charCodeAt(0) !== 123 /* { */ && line.trim() === '') {
        counts.emptyLines++;
        continue;
      }
      return toItem(kind, line, clock);
    }
  };
  const nextItem = async (src: LineSource, kind: 'log' | 'usage'): Promise<Item | null> => {
    for (;;) {
      const item = pull(src, kind);
      if (item !== undefined) return item;
      if (onChunkEnd) await onChunkEnd();
      if (!(await src.fill())) return null;
    }
  };
  let headLog = await nextItem(logs, 'log');
  let headUsage = usage ? await nextItem(usage, 'usage') : null;
  while (headLog || headUsage) {
    let item: Item;
    if (headLog && (!headUsage || headLog.ts <= headUsage.ts)) {
      item = headLog;
      headLog = pull(logs, 'log') ?? (await nextItem(logs, 'log'));
    } else {
      item = headUsage!;
      headUsage = pull(usage!, 'usage') ?? (await nextItem(usage!, 'usage'));
    }
    if (item.ts > clock) clock = item.ts;
    onItem(item);
  }
}
