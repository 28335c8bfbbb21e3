/**
 * `distill-guard local` (= `npm start`): synthesize the CDK app, start the emulators, create everything the
 * template declares, run the bundles from cdk.out, push simulated traffic through the pipeline in log time, let a
 * reviewer complete the review step from the command line, and print what happened. This file parses the
 * options; the demo itself is in local/demo/.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError, nonNegativeInt, positiveNumber } from '../usage';

import type { LocalDemoOptions } from '../../local/demo/options';

export { requireJava, runCdkSynth } from '../../local/demo/prerequisites';

function seedArg(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError(`expected a seed (any non-empty text), got '${v}'`);
  return v;
}

function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number >= 0, got '${v}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command('local')
    .description('run the whole pipeline on this machine: cdk synth, emulators, the bundles from cdk.out, simulated traffic, review, summary')
    .option('--no-synth', 'use the existing cdk.out instead of running cdk synth first')
    .option('--cdk-out <dir>', 'cloud assembly directory', 'cdk.out')
    .option('--stack <name>', 'stack to run (default: the only stack, or DistillGuard)')
    .option('--seed <seed>', 'simulation seed', seedArg, '1')
    .addOption(
      new Option('--days <n>', 'days of simulated traffic to push through the pipeline (default: 4 hours)')
        .argParser(positiveNumber)
        .conflicts('hours'),
    )
    .option('--hours <n>', 'hours of log time to push through the pipeline (default 4)', positiveNumber)
    .option('--organic <n>', 'organic accounts in the simulation', nonNegativeInt, 120)
    .option('--campaign-scale <x>', 'multiplies the extraction-campaign accounts of the small preset', positiveNumber, 0.5)
    .option('--no-demo-reinstate', 'do not reinstate a suspended account at the end (the demo of the undo path, which emits Account Reinstated)')
    .option('--no-auto-approve', 'do not approve a pending review automatically (a human does it with `distill-guard review`)')
    .option(
      '--auto-approve-after <seconds>',
      'wait this long for a human to review before approving one pending review automatically',
      nonNegativeNumber,
      0,
    )
    .option(
      '--shadow-signals <list>',
      'before the traffic, put these signals in per-signal shadow mode through the operator API (the way a new signal is rolled out): cases resting partly on them go to human review instead of auto-suspension; "" for none',
      'shared-infrastructure',
    )
    .option('--keep-running', 'after the traffic, keep the pipeline running (review from another terminal) until Ctrl-C')
    .addOption(
      new Option('--soak <seconds>', 'steady-rate soak run instead of the simulation (see bench/soak.ts)')
        .argParser(positiveNumber)
        .conflicts(['days', 'hours', 'screenshot', 'keepRunning']),
    )
    .option('--rate <events/s>', 'soak: access-log events per second', positiveNumber, 200)
    .option('--summary-json <file>', 'also write the summary as JSON')
    .option('--json', 'print the summary as JSON on stdout (progress goes to stderr)')
    .option(
      '--screenshot <file>',
      'after the run, open the review console on the live pipeline in headless Chromium and save a screenshot (docs/console.png)',
    )
    .option('--verbose', 'print the runtime setup lines', false)
    .action(async (o: LocalDemoOptions, cmd: Command) => {
      if (!o.soak && cmd.getOptionValueSource('rate') === 'cli') throw new UsageError('--rate applies only with --soak');
      const { runLocalDemo } = require('../../local/demo/run') as typeof import('../../local/demo/run');
      const code = await runLocalDemo(o);
      process.exit(code);
    });
}
