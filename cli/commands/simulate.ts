import { Command, InvalidArgumentError, Option } from 'commander';
import { nonNegativeInt, positiveNumber } from '../usage';
import { simulate } from '../../sim';
import { VARIANTS } from '../../sim/types';
import type { Scale, Variant } from '../../sim/types';

function seedArg(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError(`expected a seed (any non-empty text), got '${v}'`);
  return v;
}

function isoArg(v: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`expected an ISO time, got '${v}'`);
  return t;
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('generate seeded simulated traffic: DIR/logs.jsonl(.gz), DIR/usage.jsonl(.gz), DIR/labels.json, DIR/meta.json')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', 'seed (same seed and options, same bytes)', seedArg, '1')
    .option('--days <d>', 'days of traffic (default: 7 medium, 3 small)', nonNegativeInt)
    .option('--organic <n>', 'organic accounts (default: 4000 medium, 300 small)', nonNegativeInt)
    .addOption(new Option('--variant <v>', 'traffic variant').choices(VARIANTS).default('base'))
    .addOption(new Option('--scale <s>', 'size preset').choices(['small', 'medium']).default('medium'))
    .option('--campaign-scale <x>', 'multiply the number of campaign accounts', positiveNumber)
    .option('--start <iso>', 'start of the traffic (ISO time)', isoArg, Date.parse('2026-11-02T00:00:00Z'))
    .option('--no-gzip', 'write plain .jsonl instead of .jsonl.gz')
    .option('--no-usage', 'do not write usage events')
    .option('--json', 'print the files written and the simulation metadata as JSON')
    .action(
      async (o: {
        out: string;
        seed: string;
        days?: number;
        organic?: number;
        variant: Variant;
        scale: Scale;
        campaignScale?: number;
        start: number;
        gzip: boolean;
        usage: boolean;
        json?: boolean;
      }) => {
        const start = o.start;
        const t0 = Date.now();
        const sim = simulate({
          seed: o.seed,
          days: o.days,
          organic: o.organic,
          variant: o.variant as Variant,
          scale: o.scale as Scale,
          campaignScale: o.campaignScale,
          start,
        });
        const res = await sim.writeTo(o.out, { gzip: o.gzip, usage: o.usage });
        const m = sim.meta;
        const s = ((Date.now() - t0) / 1000).toFixed(1);
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...res, elapsedMs: Date.now() - t0, meta: m })}\n`);
          return;
        }
        process.stdout.write(
          `simulated ${res.lines} requests (${res.usageLines} usage events) in ${s}s: seed ${m.seed}, ${m.variant}, ${m.days} days, ` +
            `${m.accounts.organic} organic + ${m.accounts.campaign} campaign accounts; ${m.newModel} released ${new Date(m.newModelReleaseAt).toISOString()}\n` +
            `  ${res.logsPath}\n${res.usagePath ? `  ${res.usagePath}\n` : ''}  ${res.labelsPath} (ground truth: for npm run eval only)\n  ${res.metaPath}\n`,
        );
      },
    );
}
