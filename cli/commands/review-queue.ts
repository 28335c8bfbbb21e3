import { Command, Option } from 'commander';
import { ConnOpts, print, withConnOptions, withOperator } from './ops-common';
import { claimCase, claimNext, releaseClaim } from '../../ops/queue-query';
import { approveWhenReady, reopenCase, requestSuspension } from '../../ops/manual-actions';
import { QueueSort, parseSort } from '../../src/escalate/queue-view';
import { arg, deprecatedOption } from '../usage';

/**
 * `distill-guard review claim CASE | release CASE | next | suspend ACCOUNT --reason … | reopen CASE --reason …`:
 * working the queue with others (claims, the next unclaimed case) and the operator actions that start a case.
 */
export function registerQueueCommands(review: Command, signalOption: () => Option, decisionOption: () => Option): void {
  withConnOptions(review.command('claim').argument('<case>', 'case id'))
    .description('claim a case under review for 15 minutes (others see it is taken; claim again to renew)')
    .action(async (caseId: string, opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        const c = await claimCase(op, caseId);
        print(opts, c, () => `claimed ${caseId} as ${c.by} until ${c.until}`);
      }),
    );

  withConnOptions(review.command('release').argument('<case>', 'case id'))
    .description('release your claim on a case')
    .action(async (caseId: string, opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        await releaseClaim(op, caseId);
        print(opts, { released: caseId }, () => `released ${caseId}`);
      }),
    );

  const next = withConnOptions(review.command('next'))
    .description('claim the next case under review nobody else holds (after --after), and show what to decide')
    .option('--after <case>', 'the case you just decided')
    .option('--sort <key>', 'age | score | deadline | cluster', arg(parseSort), 'age')
    .addOption(signalOption())
    .addOption(decisionOption())
    .option('--cluster <id>', 'only cases of this cluster');
  deprecatedOption(next, '--reason <signal>', signalOption()).action(
    async (opts: ConnOpts & { after?: string; sort: QueueSort; signal?: string; decision?: string; cluster?: string }) =>
      withOperator(opts, async (op) => {
        const n = await claimNext(op, { after: opts.after, sort: opts.sort, reason: opts.signal, decision: opts.decision, cluster: opts.cluster });
        print(opts, n ?? null, () =>
          n
            ? `next: ${n.entry.caseId}  account ${n.entry.accountId}  score ${n.entry.score.toFixed(2)}  ${n.entry.reasons.join(',')}\nclaimed until ${n.claim.until}; distill-guard review show ${n.entry.caseId}`
            : 'nothing left to review (every case under review is decided or claimed by someone else)',
        );
      }),
  );

  withConnOptions(review.command('suspend').argument('<account>', 'account id'))
    .description(
      'suspend an account no case covers: opens a manual case and approves it (the workflow applies the guardrails, keys, event and audit)',
    )
    .requiredOption('--reason <text>', 'why (audited, and carried in the event)')
    .option('--no-approve', 'only open the manual case; another reviewer approves it from the queue')
    .action(async (accountId: string, opts: ConnOpts & { reason: string; approve: boolean }) =>
      withOperator(opts, async (op) => {
        const started = await requestSuspension(op, accountId, opts.reason);
        if (!opts.approve) {
          print(opts, started, () => `opened manual case ${started.caseId} for ${accountId}; it waits for a reviewer's decision`);
          return;
        }
        const r = await approveWhenReady(op, started.caseId, opts.reason);
        print(
          opts,
          { ...started, ...r },
          () => `opened manual case ${started.caseId} for ${accountId} and approved it as ${r.reviewer}; the workflow suspends the account`,
        );
      }),
    );

  withConnOptions(review.command('reopen').argument('<case>', 'an overdue case id'))
    .description('re-open an overdue case as a new case under review (same reasons and cluster)')
    .requiredOption('--reason <text>', 'why (audited)')
    .action(async (caseId: string, opts: ConnOpts & { reason: string }) =>
      withOperator(opts, async (op) => {
        const r = await reopenCase(op, caseId, opts.reason);
        print(opts, r, () => `re-opened ${caseId} as ${r.caseId}; it is on the review queue`);
      }),
    );
}
