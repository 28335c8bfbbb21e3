import { Command } from 'commander';
import { ConnOpts, print, withConnOptions, withOperator } from './ops-common';

/** `distill-guard breaker status | rearm --reason R` (the suspension-rate circuit breaker). */
export function register(program: Command): void {
  const breaker = program
    .command('breaker')
    .description('suspension-rate circuit breaker: when tripped, auto-suspend stops and every case goes to review');
  withConnOptions(breaker.command('status')).action(async (opts: ConnOpts) =>
    withOperator(opts, async (op) => {
      const s = await op.breakerStatus();
      print(opts, s, () =>
        [
          `breaker   ${s.tripped ? `TRIPPED at ${s.trippedAt}: ${s.trippedReason}` : 'armed (auto-suspend allowed)'}`,
          `last hour ${s.lastHour.toFixed(1)} auto-suspensions (this hour ${s.counts.current}, previous ${s.counts.previous})`,
          `active    ${s.activeAccounts ?? 'unknown'} accounts`,
          s.rearmedAt ? `re-armed  ${s.rearmedAt} by ${s.rearmedBy}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    }),
  );
  withConnOptions(breaker.command('rearm'))
    .requiredOption('--reason <text>', 'what was checked before re-arming')
    .action(async (opts: ConnOpts & { reason: string }) =>
      withOperator(opts, async (op) => {
        const s = await op.breakerRearm(opts.reason);
        print(opts, s, () => `breaker re-armed by ${s.rearmedBy}`);
      }),
    );
}
