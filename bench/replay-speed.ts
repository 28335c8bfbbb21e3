/**
 * Replay speed beside the floor any replay pays: the replay command's path (bundled, on two threads: parse on one,
 * aggregate and detect every 15 minutes of log time on the other) over an access-log file, and a bare pass over the
 * same file (read, gunzip, split lines, JSON.parse each line and nothing else). Both as wall and CPU seconds (user + system, all threads of this process)
 * per 1M lines, so the share of the cost that is detection rather than input handling is plain.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readLineBatches } from '../src/replay';
import { replayCompiled } from '../src/replay/compiled';
import type { AccessLogRecord } from '../src/shared/contract';

export interface SpeedFigures {
  lines: number;
  wallS: number;
  cpuS: number;
  /** Per 1M lines. */
  wallPerM: number;
  cpuPerM: number;
}

export interface ReplaySpeed {
  file: string;
  replay: SpeedFigures;
  jsonParse: SpeedFigures;
  /** Peak RSS of this process after the replay (MB). */
  rssMb: number;
}

/** Wall and CPU seconds of an async function (CPU of the whole process: replay may use worker threads). */
async function measure(lines: () => number, f: () => Promise<void>): Promise<SpeedFigures> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await f();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpuS = (c.user + c.system) / 1e6;
  const n = lines();
  return { lines: n, wallS, cpuS, wallPerM: (wallS * 1e6) / Math.max(1, n), cpuPerM: (cpuS * 1e6) / Math.max(1, n) };
}

/** Read + gunzip + split + JSON.parse of every line: the floor under any replay of the file. */
async function bareParse(file: string): Promise<number> {
  let n = 0;
  for await (const batch of readLineBatches(file, '--replay-logs')) {
    for (const line of batch) {
      if (line.length === 0) continue;
      JSON.parse(line);
      n++;
    }
  }
  return n;
}

/** Writes the bench's own traffic as a gzip access-log file (when no --replay-logs file is given). */
export function writeLogsFile(logs: AccessLogRecord[]): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dg-bench-replay-'));
  const file = join(dir, 'logs.jsonl.gz');
  writeFileSync(file, gzipSync(logs.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function replaySpeed(file: string): Promise<ReplaySpeed> {
  let parsed = 0;
  const jsonParse = await measure(
    () => parsed,
    async () => void (parsed = await bareParse(file)),
  );
  let replayed = 0;
  const replay = await measure(
    () => replayed,
    async () => {
      const report = await replayCompiled({ logs: file });
      const input = report.input as { linesRead: number; emptyLines: number };
      replayed = input.linesRead + input.emptyLines;
    },
  );
  return { file, replay, jsonParse, rssMb: process.resourceUsage().maxRSS / 1024 };
}

/**
 * Measured in a child node with the replay command's V8 flags (bin/distill-guard.js), so that the figures are the
 * command's and the bench's own heap does not weigh on them.
 */
export function replaySpeedInChild(file: string): ReplaySpeed {
  const out = execFileSync(process.execPath, ['--max-semi-space-size=64', '-r', 'tsx/cjs', __filename, file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as ReplaySpeed;
}

if (require.main === module) {
  replaySpeed(process.argv[2]).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
