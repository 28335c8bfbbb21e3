/**
 * Replay on two threads (src/replay/threaded.ts, run from the bundles of src/replay/compiled.ts) against replay on
 * one (replayFiles, as the test runner loads it): the same report, account by account, on simulated traffic with
 * the input faults real files have, and the same errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { simulate } from '../../sim/simulate';
import { InputError, replayFiles, type ReplayEngine } from '../../src/replay/index';
import { replayCompiled } from '../../src/replay/compiled';
import type { ReplayReport } from '../../src/shared/contract';

const dir = mkdtempSync(join(tmpdir(), 'dg-threaded-'));
const logs: string[] = [];
const usage: string[] = [];
for (const e of simulate({ seed: 5, scale: 'small', variant: 'base', days: 2 }).events()) {
  logs.push(JSON.stringify(e.log));
  if (e.usage) usage.push(JSON.stringify(e.usage));
}
// What real files hold besides records: lines that are not JSON, a record without an account, blank lines, a
// CloudWatch Logs timestamp prefix, a producer's duplicate, and a usage event claimed by another account.
const dirty = [...logs];
dirty.splice(1000, 0, 'not json', JSON.stringify({ ...JSON.parse(logs[5]), accountId: '-' }), '', logs[999]);
dirty[2000] = `2026-11-02T00:00:01.000Z ${dirty[2000]}`;
const stolen = { ...JSON.parse(usage[10]), accountId: JSON.parse(usage[11]).accountId };
const dirtyUsage = [...usage.slice(0, 3000), JSON.stringify(stolen), '{"truncated', ...usage.slice(3000)];
const logsPath = join(dir, 'logs.jsonl.gz');
const usagePath = join(dir, 'usage.jsonl.gz');
writeFileSync(logsPath, gzipSync(dirty.join('\n') + '\n'));
writeFileSync(usagePath, gzipSync(dirtyUsage.join('\n') + '\n'));

/** The report without the time detection took. */
function comparable(r: ReplayReport): unknown {
  const detection = { ...(r.detection as Record<string, unknown>) };
  delete detection.detectMs;
  return { ...r, detection };
}

describe('replay on two threads', () => {
  jest.setTimeout(240_000);

  test.each([
    ['access logs and usage events', { logs: logsPath, usage: usagePath }],
    ['access logs alone', { logs: logsPath }],
  ])('%s: the same report as on one thread, account by account', async (_name, files) => {
    let engines: ReplayEngine[] = [];
    const onEngine = (e: ReplayEngine) => void engines.push(e);
    const one = await replayFiles({ ...files, onEngine });
    const two = await replayCompiled({ ...files, onEngine });
    // What aggregation built from the events the reader thread handed over: every window, field by field.
    const [a, b] = engines.map((e) => e.agg.store);
    expect(b.allWindows()).toEqual(a.allWindows());
    expect(b.modelFirstSeen()).toEqual(a.modelFirstSeen());
    engines = [];
    expect(two.accounts.map((a) => [a.accountId, a.decision, a.score, a.firstFlaggedAt])).toEqual(
      one.accounts.map((a) => [a.accountId, a.decision, a.score, a.firstFlaggedAt]),
    );
    expect(comparable(two)).toEqual(comparable(one));
    // The faults were counted, not lost: the reader thread's counts reach the report.
    const input = two.input as { emptyLines: number; skippedTotal: number };
    expect(input.emptyLines).toBe(1);
    expect(input.skippedTotal).toBeGreaterThanOrEqual(2);
    const summary = one.summary as { review: number; suspend: number };
    expect(summary.review + summary.suspend).toBeGreaterThan(0);
  });

  test('unreadable input: the same InputError, and a corrupt gzip stream read by the reader thread', async () => {
    await expect(replayCompiled({ logs: dir })).rejects.toBeInstanceOf(InputError);
    const corrupt = join(dir, 'corrupt.jsonl.gz');
    const gz = gzipSync(logs.slice(0, 20_000).join('\n'));
    writeFileSync(corrupt, gz.subarray(0, Math.floor(gz.length / 2)));
    const err = await replayCompiled({ logs: corrupt }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/corrupt or truncated gzip/);
  });
});
