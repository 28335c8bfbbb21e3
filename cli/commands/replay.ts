import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';

/**
 * `distill-guard replay --logs LOGS.jsonl[.gz] [--usage USAGE.jsonl[.gz]] --out REPORT.json` (CONTRACT §3).
 * Exit code 0 on success; 1 with a one-line message on unreadable input or bad options.
 */
export function register(program: Command): void {
  program
    .command('replay')
    .description('replay access logs (and optional usage events) through aggregation and detection, log time as the clock, and write a report')
    .requiredOption('--logs <file>', 'access-log records, one JSON object per line (.jsonl or .jsonl.gz), in time order')
    .option('--usage <file>', 'usage events, one JSON object per line (.jsonl or .jsonl.gz)')
    .requiredOption('--out <file>', 'where to write the JSON report')
    .option('--config <file>', 'JSON file of detection config overrides (else env DETECTION_CONFIG)')
    .option('--interval <minutes>', 'detection cadence in log time, minutes', '15')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts: { logs: string; usage?: string; out: string; config?: string; interval: string; quiet?: boolean }) => {
      // Loaded lazily (the CLI loads every command module to register it).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { replayFiles, probeInput } = require('../../src/replay/index') as typeof import('../../src/replay/index');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { resolveDetectionConfig } = require('../../src/detect/config') as typeof import('../../src/detect/config');
      const interval = Number(opts.interval);
      if (!Number.isFinite(interval) || interval <= 0) throw new Error(`--interval must be a positive number of minutes, got '${opts.interval}'`);
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
      const report = await replayFiles({
        logs: opts.logs,
        usage: opts.usage,
        config,
        intervalMs: interval * 60_000,
        onProgress: opts.quiet || !process.stderr.isTTY
          ? undefined
          : (p) => process.stderr.write(`\rreplay: ${p.linesRead.toLocaleString('en-US')} lines, log time ${new Date(p.clock).toISOString()}, ${p.runs} detection runs   `),
      });
      const elapsed = Date.now() - started;
      (report as Record<string, unknown>).replay = { elapsedMs: elapsed };
      await fs.writeFile(opts.out, JSON.stringify(report, null, 1) + '\n');
      if (!opts.quiet) {
        const input = report.input as { linesRead: number; skippedTotal: number };
        const s = report.summary as Record<string, number>;
        process.stderr.write(
          `\rreplay: ${input.linesRead.toLocaleString('en-US')} lines (${input.skippedTotal} skipped as malformed) in ${(elapsed / 1000).toFixed(1)} s; ` +
            `${s.accountsSeen} accounts: ${s.suspend} suspend, ${s.review} review, ${s.monitor} monitor; ${s.clusters} clusters -> ${opts.out}\n`,
        );
      }
    });
}
