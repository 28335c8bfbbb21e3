import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { positiveNumber } from '../usage';

/**
 * `distill-guard replay --logs LOGS.jsonl[.gz] [--usage USAGE.jsonl[.gz]] --out REPORT.json` (docs/contract.md, replay report).
 * Lines may carry the timestamp prefix of a CloudWatch Logs export. Exit code 0 on success; 2 on bad options;
 * 1 with a one-line message on unreadable input, or when every line of an input was skipped (the wrong file: the
 * report is still written, to show why).
 */
export function register(program: Command): void {
  program
    .command('replay')
    .description('replay access logs (and optional usage events) through aggregation and detection, log time as the clock, and write a report')
    .requiredOption(
      '--logs <file>',
      'access-log records, one JSON object per line (.jsonl or .jsonl.gz), in time order; a CloudWatch Logs export (timestamp before each record) works as it is',
    )
    .option('--usage <file>', 'usage events, one JSON object per line (.jsonl or .jsonl.gz)')
    .requiredOption('--out <file>', 'where to write the JSON report')
    .option('--config <file>', 'JSON file of detection config overrides (else env DETECTION_CONFIG)')
    .option('--interval <minutes>', 'detection cadence in log time, minutes', positiveNumber, 15)
    .option('--quiet', 'no progress or summary on stderr')
    .option('--json', 'print the summary (input counts, decisions, report path) as JSON on stdout')
    .action(async (opts: { logs: string; usage?: string; out: string; config?: string; interval: number; quiet?: boolean; json?: boolean }) => {
      // Loaded lazily (the CLI loads every command module to register it). Replay runs from a bundle on two threads
      // (src/replay/compiled.ts says why).
      const { replayCompiled } = require('../../src/replay/compiled') as typeof import('../../src/replay/compiled');
      const { probeInput } = require('../../src/replay/lines') as typeof import('../../src/replay/lines');
      const { resolveDetectionConfig } = require('../../src/detect/config') as typeof import('../../src/detect/config');
      let overrides: string | undefined = process.env.DETECTION_CONFIG;
      if (opts.config) {
        try {
          overrides = await fs.readFile(opts.config, 'utf8');
        } catch (err) {
          throw new Error(`cannot read --config '${opts.config}': ${(err as Error).message}`);
        }
      }
      const config = resolveDetectionConfig(overrides);
      // Fail fast on unreadable input and an unwritable output directory, before any work.
      await probeInput(opts.logs, '--logs');
      if (opts.usage) await probeInput(opts.usage, '--usage');
      const outDir = dirname(resolve(opts.out));
      try {
        const st = await fs.stat(outDir);
        if (!st.isDirectory()) throw new Error('not a directory');
      } catch {
        throw new Error(`cannot write --out '${opts.out}': directory '${outDir}' does not exist`);
      }
      const started = Date.now();
      const report = await replayCompiled({
        logs: opts.logs,
        usage: opts.usage,
        config,
        intervalMs: opts.interval * 60_000,
        onProgress: opts.quiet || !process.stderr.isTTY ? undefined : (p) => process.stderr.write(`\r${progressLine(p, Date.now() - started)}\x1b[K`),
      });
      const elapsed = Date.now() - started;
      (report as Record<string, unknown>).replay = { elapsedMs: elapsed };
      await fs.writeFile(opts.out, JSON.stringify(report, null, 1) + '\n');
      const input = report.input as {
        linesRead: number;
        logLines: number;
        usageLines: number;
        requests: number;
        usageEvents: number;
        skippedTotal: number;
        skipped: Record<string, number>;
      };
      const s = report.summary as Record<string, number>;
      if (opts.json) process.stdout.write(`${JSON.stringify({ out: opts.out, elapsedMs: elapsed, input, summary: s })}\n`);
      if (!opts.quiet) {
        const [cr, clear] = process.stderr.isTTY ? ['\r', '\x1b[K'] : ['', ''];
        process.stderr.write(
          `${cr}replay: ${input.linesRead.toLocaleString('en-US')} lines (${input.skippedTotal} skipped as malformed) in ${(elapsed / 1000).toFixed(1)} s; ` +
            `${s.accountsSeen} accounts: ${s.suspend} suspend, ${s.review} review, ${s.monitor} monitor; ${s.clusters} clusters -> ${opts.out}${clear}\n`,
        );
      }
      const wrong = allSkipped(input, opts);
      if (wrong) throw new Error(wrong);
    });
}

/** A one-line description of an input whose every line was skipped (the wrong file), or undefined. */
export function allSkipped(
  input: { logLines: number; usageLines: number; requests: number; usageEvents: number; skipped: Record<string, number> },
  files: { logs: string; usage?: string },
): string | undefined {
  const why = Object.entries(input.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  if (input.logLines > 0 && input.requests === 0)
    return `every line of --logs '${files.logs}' was skipped (${input.logLines} lines: ${why || 'no access-log records'}); is it an access-log file?`;
  if (files.usage && input.usageLines > 0 && input.usageEvents === 0)
    return `every line of --usage '${files.usage}' was skipped (${input.usageLines} lines: ${why || 'no usage events'}); is it a usage-event file?`;
  return undefined;
}

/** `replay: 42% of 1.2 GB, ETA 1m05s, log time 2026-11-03T04:00Z, 3,400,000 lines` */
export function progressLine(p: { linesRead: number; clock: number; bytesRead: number; bytesTotal: number }, elapsedMs: number): string {
  const share = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
  const eta = share > 0 ? (elapsedMs * (1 - share)) / share : NaN;
  const etaText = Number.isFinite(eta)
    ? `ETA ${eta >= 60_000 ? `${Math.floor(eta / 60_000)}m${String(Math.round((eta % 60_000) / 1000)).padStart(2, '0')}s` : `${Math.round(eta / 1000)}s`}`
    : 'ETA -';
  const mb = (p.bytesTotal / 1e6).toFixed(p.bytesTotal >= 1e8 ? 0 : 1);
  return `replay: ${Math.floor(share * 100)}% of ${mb} MB, ${etaText}, log time ${new Date(p.clock).toISOString().slice(0, 16)}Z, ${p.linesRead.toLocaleString('en-US')} lines`;
}
