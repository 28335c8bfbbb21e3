import { Command } from 'commander';
import { DEFAULT_RESTRICT_HOURS, MAX_RESTRICT_HOURS, parseRestrictHours } from '../../src/escalate/restriction';
import { ConnOpts, print, withConnOptions, withOperator } from './ops-common';
import { arg } from '../usage';

/**
 * `distill-guard restrict ACCOUNT --reason R [--duration-hours N]`: the step between review and suspend, chosen by
 * hand. The stack's restriction function does the work (keys to the throttled usage plan, step-up flag, audit
 * entry, Account Restricted event); `review reinstate ACCOUNT` lifts it early.
 */
export function register(program: Command): void {
  withConnOptions(program.command('restrict').argument('<account>', 'account id'))
    .description('throttle an account and ask it to step up (between review and suspend); lifted at expiry or by review reinstate')
    .requiredOption('--reason <text>', 'why (audited, and carried in the event)')
    .option('--duration-hours <n>', `how long, 0 < n <= ${MAX_RESTRICT_HOURS}`, arg(parseRestrictHours), DEFAULT_RESTRICT_HOURS)
    .action(async (accountId: string, opts: ConnOpts & { reason: string; durationHours: number }) => {
      const hours = opts.durationHours;
      await withOperator(opts, async (op) => {
        const r = await op.restrict(accountId, opts.reason, hours);
        print(opts, r, () =>
          r.outcome === 'allowlisted'
            ? `not restricted: ${accountId} is allowlisted`
            : `restricted ${accountId} until ${new Date(r.restrictedUntil!).toISOString()}; API keys on the restricted usage plan: ${r.keys.join(', ') || 'none'}`,
        );
      });
    });
}
