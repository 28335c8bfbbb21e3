import { Command } from 'commander';
import { ConnOpts, duration, print, sparkline, table, withConnOptions, withOperator } from './ops-common';
import { registerQueueCommands } from './review-queue';
import { queueView } from '../../lambdas/escalate/queue-query';
import { parseSort } from '../../src/escalate/queue-view';
import { OperatorError } from '../../lambdas/escalate/store';

/**
 * `distill-guard review list | show CASE | approve CASE --reason … | reject CASE --reason … |
 *  reinstate ACCOUNT --reason … | suspended | shadow [on|off] | heartbeat CASE`
 * With the operator's own credentials (IAM decides; see the stack's ReviewerPolicy / OperatorPolicy), or against
 * the local runtime. Every action is audited (who, when, why).
 */
export function register(program: Command): void {
  const review = program.command('review').description('work the human review queue: list, show, approve, reject, reinstate');

  withConnOptions(review.command('list'))
    .description('cases waiting for review (oldest first unless --sort), with age against the deadline and who holds each')
    .option('--state <state>', 'review | overdue | open | closed | all (review, overdue, open), or a comma-separated list', 'review')
    .option('--sort <key>', 'age (oldest first) | score (highest) | deadline (soonest) | cluster (largest)', 'age')
    .option('--reason <signal>', 'only cases with this reason')
    .option('--decision <decision>', 'only cases the scorer decided this way: review | suspend')
    .option('--cluster <id>', 'only cases of this cluster')
    .option('--find <text>', 'account id or case id containing this text')
    .action(async (opts: ConnOpts & { state: string; sort: string; reason?: string; decision?: string; cluster?: string; find?: string }) =>
      withOperator(opts, async (op) => {
        const states = opts.state === 'all' ? ['review', 'overdue', 'open'] : opts.state.split(',').map((s) => s.trim());
        for (const s of states) if (!['review', 'overdue', 'open', 'closed'].includes(s)) throw new Error(`--state must be review, overdue, open, closed or all, got '${s}'`);
        const q = await queueView(op, { states, sort: parseSort(opts.sort), reason: opts.reason, decision: opts.decision, cluster: opts.cluster, find: opts.find });
        print(opts, q, () =>
          q.length === 0
            ? (opts.state === 'all' ? 'no open, review or overdue cases' : `no cases in state ${opts.state}${opts.reason || opts.decision || opts.cluster || opts.find ? ' matching the filters' : ''}`)
            : table([
                ['CASE', 'ACCOUNT', 'STATE', 'SCORER', 'SCORE', 'AGE', 'DEADLINE IN', 'CLUSTER', 'CLAIMED BY', 'REASONS'],
                ...q.map((c) => [
                  c.caseId,
                  c.accountId,
                  c.state,
                  c.decision,
                  c.score.toFixed(2),
                  duration(c.ageMs),
                  c.remainingMs === undefined ? '-' : c.remainingMs < 0 ? `OVERDUE ${duration(-c.remainingMs)}` : duration(c.remainingMs),
                  c.clusterId ? `${c.clusterId} (${c.clusterSize})` : '-',
                  c.claim ? c.claim.by : '-',
                  c.reasons.join(','),
                ]),
              ]),
        );
      }),
    );

  registerQueueCommands(review);

  withConnOptions(review.command('show').argument('<case>', 'case id'))
    .description('a case: evidence, decision, account status and the audit trail')
    .action(async (caseId: string, opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        const r = await op.show(caseId);
        print(opts, r, () => {
          const c = r.case;
          const e = c.evidence;
          const lines = [
            `case      ${c.caseId}  (${c.state}${c.outcome ? `, ${c.outcome}` : ''}${c.shadow ? ', SHADOW' : ''})`,
            `account   ${c.accountId}  status ${r.account?.status ?? 'unknown'}${r.account?.suspendedUntil ? ` until ${new Date(r.account.suspendedUntil).toISOString()}` : ''}  offences ${r.account?.offences ?? 0}`,
            `scorer    ${c.decision}  score ${c.score.toFixed(3)}  flagged ${new Date(c.flaggedAt).toISOString()}`,
            `route     ${c.route ?? '-'}${c.routeReasons?.length ? `: ${c.routeReasons.join('; ')}` : ''}`,
            c.reviewDeadline ? `deadline  ${c.reviewDeadline}` : '',
            `reasons   ${c.reasons.join(', ')}`,
            ...(c.reasonDetails ?? []).map((d) => `          - ${d.signal}: ${d.text ?? ''}${d.value !== undefined ? ` (value ${d.value}, baseline ${d.baseline ?? '-'})` : ''}`),
            '',
            `activity  ${sparkline(e.timeline.map((p) => p.n))}  ${e.totals.requests} requests over ${e.timeline.length} h, ${e.totals.errors} errors`,
            `models    ${Object.entries(e.totals.models).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ') || '-'}`,
            `prompts   ${Object.entries(e.totals.promptClasses).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ') || '- (no usage events)'}`,
            `network   ${e.ips} source IPs, subnets ${e.subnets.slice(0, 5).join(', ')}${e.subnets.length > 5 ? ' …' : ''}`,
            `keys      ${e.apiKeys.join(', ') || '-'}`,
            `cluster   ${c.clusterId ?? '-'}`,
            ...e.cluster.map((m) => `          - ${m.accountId} (${m.status ?? '?'}): ${m.links.join('; ') || 'no direct link in the features'}`),
            '',
            'audit trail',
            table(r.audit.map((a) => [a.at, a.actor, a.action, a.reason ?? ''])),
          ];
          return lines.filter((l, i) => l !== '' || i > 0).join('\n');
        });
      }),
    );

  const decide = (name: 'approve' | 'reject', approved: boolean) => {
    const cmd = withConnOptions(review.command(name).argument('<case>', 'case id'))
      .description(approved ? 'approve: the workflow suspends the account (keys disabled, event published), or restricts it with --action restrict' : 'reject: no suspension, the case is closed')
      .requiredOption('--reason <text>', 'why (recorded in the audit trail and the event)');
    if (approved) cmd.option('--action <step>', 'what the approval applies: suspend or restrict (throttled keys, step-up)', 'suspend');
    return cmd.action(async (caseId: string, opts: ConnOpts & { reason: string; action?: string }) =>
        withOperator(opts, async (op) => {
          if (opts.action !== undefined && opts.action !== 'suspend' && opts.action !== 'restrict') throw new OperatorError(`action must be suspend or restrict, got '${opts.action}'`);
          const r = await op.decide(caseId, approved, opts.reason, opts.action === 'restrict' ? { action: 'restrict' } : {});
          print(opts, r, () => `${approved ? 'approved' : 'rejected'} ${caseId}${opts.action === 'restrict' ? ' (restrict)' : ''} as ${r.reviewer}; the workflow applies it and audits it`);
        }),
      );
  };
  decide('approve', true);
  decide('reject', false);

  withConnOptions(review.command('reinstate').argument('<account>', 'account id'))
    .description('lift a suspension: API keys re-enabled, status restored, Account Reinstated event, audit entry')
    .requiredOption('--reason <text>', 'why (audited, and carried in the event)')
    .action(async (accountId: string, opts: ConnOpts & { reason: string }) =>
      withOperator(opts, async (op) => {
        const r = await op.reinstate(accountId, opts.reason);
        print(opts, r, () => `reinstated ${accountId} (case ${r.caseId}); API keys re-enabled: ${r.keys.join(', ') || 'none'}`);
      }),
    );

  withConnOptions(review.command('suspended'))
    .description('accounts currently suspended, soonest expiry first')
    .action(async (opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        const s = await op.suspended();
        print(opts, s, () =>
          s.length === 0
            ? 'no suspended accounts'
            : table([['ACCOUNT', 'UNTIL', 'OFFENCES', 'CASE', 'BY'], ...s.map((a) => [a.accountId, a.suspendedUntil ? new Date(a.suspendedUntil).toISOString() : '-', String(a.offences ?? ''), String(a.lastCaseId ?? ''), String(a.suspendedBy ?? '')])]),
        );
      }),
    );

  withConnOptions(review.command('shadow').argument('[mode]', 'status | on | off', 'status'))
    .description('shadow mode: decisions computed, recorded and shown, never applied (globally or per signal)')
    .option('--signal <name...>', 'signals in shadow mode (with on/off: set this list; global mode unchanged unless no signal given)')
    .option('--reason <text>', 'why (required to change)')
    .action(async (mode: string, opts: ConnOpts & { signal?: string[]; reason?: string }) =>
      withOperator(opts, async (op) => {
        const cur = await op.shadowStatus();
        if (mode === 'status') {
          print(opts, cur, () => `global shadow ${cur.global ? 'ON' : 'off'}; shadowed signals: ${cur.signals.join(', ') || 'none'} (${cur.source})`);
          return;
        }
        if (mode !== 'on' && mode !== 'off') throw new Error(`shadow mode must be status, on or off, got '${mode}'`);
        const next = opts.signal?.length
          ? { global: cur.global, signals: mode === 'on' ? [...new Set([...cur.signals, ...opts.signal])] : cur.signals.filter((s) => !opts.signal!.includes(s)) }
          : { global: mode === 'on', signals: cur.signals };
        await op.setShadow(next, opts.reason ?? '');
        print(opts, next, () => `global shadow ${next.global ? 'ON' : 'off'}; shadowed signals: ${next.signals.join(', ') || 'none'}`);
      }),
    );

  withConnOptions(review.command('heartbeat').argument('<case>', 'case id'))
    .description('reset the review heartbeat (only when the stack sets reviewHeartbeat)')
    .action(async (caseId: string, opts: ConnOpts) => withOperator(opts, async (op) => op.heartbeat(caseId)));
}
