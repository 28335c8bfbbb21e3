import { Command } from 'commander';
import { ConnOpts, print, table, withConnOptions, withOperator } from './ops-common';
import { signalFeedback } from '../../ops/feedback-query';
import type { SignalFeedback } from '../../src/escalate/feedback';

/** `distill-guard signals [--json]`: per signal and reason combination, how often reviewers confirmed or overturned it. */
export function register(program: Command): void {
  withConnOptions(program.command('signals'))
    .description('reviewer feedback per signal: confirmed (approved) vs overturned (rejected, reinstated), highest overturn rate first')
    .action(async (opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        const r = await signalFeedback(op.store);
        const rows = (xs: SignalFeedback[]) =>
          xs.map((x) => [
            x.name,
            String(x.confirmed),
            String(x.overturned),
            String(x.approved),
            String(x.rejected),
            String(x.reinstatedReviewed + x.reinstatedAuto),
            x.overturnRate === null ? '-' : `${Math.round(x.overturnRate * 100)}%`,
          ]);
        const head = ['CONFIRMED', 'OVERTURNED', 'APPROVED', 'REJECTED', 'REINSTATED', 'OVERTURN RATE'];
        print(opts, r, () =>
          r.signals.length === 0
            ? 'no reviewer decisions recorded yet'
            : [
                table([['SIGNAL', ...head], ...rows(r.signals)]),
                '',
                r.combinations.length ? table([['REASONS TOGETHER', ...head], ...rows(r.combinations)]) : '',
              ]
                .join('\n')
                .trimEnd(),
        );
      }),
    );
}
