import { Command, InvalidArgumentError } from 'commander';
import { simulate } from '../../sim';
import { VARIANTS } from '../../sim/types';
import type { Scale, Variant } from '../../sim/types';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('generate seeded simulated traffic: DIR/logs.jsonl(.gz), DIR/usage.jsonl(.gz), DIR/labels.json, DIR/meta.json')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', 'seed (same seed and options, same bytes)', '1')
    .option('--days <d>', 'days of traffic (default: 7 medium, 3 small)', int('--days'))
    .option('--organic <n>', 'organic accounts (default: 4000 medium, 300 small)', int('--organic'))
    .option('--variant <v>', 'base | evasive | adaptive', 'base')
    .option('--scale <s>', 'small | medium', 'medium')
    .option('--campaign-scale <x>', 'multiply the number of campaign accounts', parseFloat)
    .option('--start <iso>', 'start of the traffic (ISO time)', '2026-11-02T00:00:00Z')
    .option('--no-gzip', 'write plain .jsonl instead of .jsonl.gz')
    .option('--no-usage', 'do not write usage events')
    .action(async (o: { out: string; seed: string; days?: number; organic?: number; variant: string; scale: string; campaignScale?: number; start: string; gzip: boolean; usage: boolean }) => {
      if (!(VARIANTS as readonly string[]).includes(o.variant)) throw new Error(`--variant must be base, evasive or adaptive, got ${JSON.stringify(o.variant)}`);
      if (o.scale !== 'small' && o.scale !== 'medium') throw new Error(`--scale must be small or medium, got ${JSON.stringify(o.scale)}`);
      const start = Date.parse(o.start);
      if (Number.isNaN(start)) throw new Error(`--start must be an ISO time, got ${JSON.stringify(o.start)}`);
      const t0 = Date.now();
      const sim = simulate({ seed: o.seed, days: o.days, organic: o.organic, variant: o.variant as Variant, scale: o.scale as Scale, campaignScale: o.campaignScale, start });
      const res = await sim.writeTo(o.out, { gzip: o.gzip, usage: o.usage });
      const m = sim.meta;
      const s = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `simulated ${res.lines} requests (${res.usageLines} usage events) in ${s}s: seed ${m.seed}, ${m.variant}, ${m.days} days, ` +
          `${m.accounts.organic} organic + ${m.accounts.campaign} campaign accounts; ${m.newModel} released ${new Date(m.newModelReleaseAt).toISOString()}\n` +
          `  ${res.logsPath}\n${res.usagePath ? `  ${res.usagePath}\n` : ''}  ${res.labelsPath} (ground truth: for npm run eval only)\n  ${res.metaPath}\n`,
      );
    });
}
