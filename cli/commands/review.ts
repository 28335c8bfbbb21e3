import { Argument, Command, Option } from 'commander';
import { ConnOpts, duration, listCommand, print, sparkline, table, withConnOptions, withOperator } from './ops-common';
import { registerQueueCommands } from './review-queue';
import { queueView } from '../../ops/queue-query';
import { QueueSort, parseSort } from '../../src/escalate/queue-view';
import { UsageError, arg, choiceList, deprecatedOption } from '../usage';

/**
 * `distill-guard review list | show CASE | approve CASE --reason … | reject CASE --reason … |
 *  reinstate ACCOUNT --reason … | suspended | shadow [on|off] | heartbeat CASE`
 * Filters and choices are checked while parsing (usage errors, before any connection). `--signal` filters by a
 * signal (`--reason` is always the why of an action); `approve --step` picks suspend or restrict.
 * With the operator's own credentials (IAM decides; see the stack's ReviewerPolicy / OperatorPolicy), or against
 * the local runtime. Every action is audited (who, when, why).
 */
export function register(program: Command): void {
  const review = program.command('review').description('work the human review queue: list, show, approve, reject, reinstate');
  registerList(review);
  registerQueueCommands(review, signalOption, decisionOption);
  registerShow(review);
  registerDecide(review, 'approve', true);
  registerDecide(review, 'reject', false);
  registerReinstate(review);
  listCommand(review.command('suspended'), 'accounts currently suspended, soonest expiry first', (op) => op.suspended(), 'no suspended accounts', {
    ACCOUNT: (a) => a.accountId,
    UNTIL: (a) => (a.suspendedUntil ? new Date(a.suspendedUntil).toISOString() : '-'),
    OFFENCES: (a) => String(a.offences ?? ''),
    CASE: (a) => String(a.lastCaseId ?? ''),
    BY: (a) => String(a.suspendedBy ?? ''),
  });
  registerShadow(review);
  registerHeartbeat(review);
}

/** `review list`: the queue, filtered and sorted. */
function registerList(review: Command): void {
  const list = withConnOptions(review.command('list'))
    .description('cases waiting for review (oldest first unless --sort), with age against the deadline and who holds each')
    .option(
      '--state <state>',
      'review | overdue | open | closed | all (review, overdue, open), or a comma-separated list',
      choiceList(['review', 'overdue', 'open', 'closed'], ['review', 'overdue', 'open']),
      ['review'],
    )
    .option('--sort <key>', 'age (oldest first) | score (highest) | deadline (soonest) | cluster (largest)', arg(parseSort), 'age')
    .addOption(signalOption())
    .addOption(decisionOption())
    .option('--cluster <id>', 'only cases of this cluster')
    .option('--find <text>', 'account id or case id containing this text');
  deprecatedOption(list, '--reason <signal>', signalOption()).action(
    async (opts: ConnOpts & { state: string[]; sort: QueueSort; signal?: string; decision?: string; cluster?: string; find?: string }) =>
      withOperator(opts, async (op) => {
        const states = opts.state;
        const q = await queueView(op, {
          states,
          sort: opts.sort,
          reason: opts.signal,
          decision: opts.decision,
          cluster: opts.cluster,
          find: opts.find,
        });
        print(opts, q, () =>
          q.length === 0
            ? `no cases in state ${states.join(', ')}${opts.signal || opts.decision || opts.cluster || opts.find ? ' matching the filters' : ''}`
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
}

/** `review show CASE`: the evidence, the decision, the account and the audit trail. */
function registerShow(review: Command): void {
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
            ...(c.reasonDetails ?? []).map(
              (d) => `          - ${d.signal}: ${d.text ?? ''}${d.value !== undefined ? ` (value ${d.value}, baseline ${d.baseline ?? '-'})` : ''}`,
            ),
            '',
            `activity  ${sparkline(e.timeline.map((p) => p.n))}  ${e.totals.requests} requests over ${e.timeline.length} h, ${e.totals.errors} errors`,
            `models    ${byCount(e.totals.models) || '-'}`,
            `prompts   ${byCount(e.totals.promptClasses) || '- (no usage events)'}`,
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
}

/** `review approve|reject CASE --reason …`: approve may restrict instead of suspend (`--step`). */
function registerDecide(review: Command, name: 'approve' | 'reject', approved: boolean): Command {
  const cmd = withConnOptions(review.command(name).argument('<case>', 'case id'))
    .description(
      approved
        ? 'approve: the workflow suspends the account (keys disabled, event published), or restricts it with --step restrict'
        : 'reject: no suspension, the case is closed',
    )
    .requiredOption('--reason <text>', 'why (recorded in the audit trail and the event)');
  if (approved) {
    const step = () =>
      new Option('--step <step>', 'what the approval applies: suspend or restrict (throttled keys, step-up)')
        .choices(['suspend', 'restrict'])
        .default('suspend');
    cmd.addOption(step());
    deprecatedOption(cmd, '--action <step>', step(), (v) => step().parseArg!(v, undefined));
  }
  return cmd.action(async (caseId: string, opts: ConnOpts & { reason: string; step?: string }) =>
    withOperator(opts, async (op) => {
      const r = await op.decide(caseId, approved, opts.reason, opts.step === 'restrict' ? { action: 'restrict' } : {});
      print(
        opts,
        r,
        () =>
          `${approved ? 'approved' : 'rejected'} ${caseId}${opts.step === 'restrict' ? ' (restrict)' : ''} as ${r.reviewer}; the workflow applies it and audits it`,
      );
    }),
  );
}

/** `review reinstate ACCOUNT --reason …`. */
function registerReinstate(review: Command): void {
  withConnOptions(review.command('reinstate').argument('<account>', 'account id'))
    .description('lift a suspension: API keys re-enabled, status restored, Account Reinstated event, audit entry')
    .requiredOption('--reason <text>', 'why (audited, and carried in the event)')
    .action(async (accountId: string, opts: ConnOpts & { reason: string }) =>
      withOperator(opts, async (op) => {
        const r = await op.reinstate(accountId, opts.reason);
        print(opts, r, () => `reinstated ${accountId} (case ${r.caseId}); API keys re-enabled: ${r.keys.join(', ') || 'none'}`);
      }),
    );
}

/** `review shadow [status|on|off]`: globally or per signal. */
function registerShadow(review: Command): void {
  withConnOptions(
    review.command('shadow').addArgument(new Argument('[mode]', 'status | on | off').choices(['status', 'on', 'off']).default('status')),
  )
    .description('shadow mode: decisions computed, recorded and shown, never applied (globally or per signal)')
    .option('--signal <name...>', 'signals in shadow mode (with on/off: set this list; global mode unchanged unless no signal given)')
    .option('--reason <text>', 'why (required to change)')
    .action(async (mode: string, opts: ConnOpts & { signal?: string[]; reason?: string }) => {
      if (mode === 'status' && (opts.signal || opts.reason)) throw new UsageError('--signal and --reason change shadow mode: give on or off');
      await withOperator(opts, async (op) => {
        const cur = await op.shadowStatus();
        if (mode === 'status') {
          print(opts, cur, () => `global shadow ${cur.global ? 'ON' : 'off'}; shadowed signals: ${cur.signals.join(', ') || 'none'} (${cur.source})`);
          return;
        }
        const next = opts.signal?.length
          ? {
              global: cur.global,
              signals: mode === 'on' ? [...new Set([...cur.signals, ...opts.signal])] : cur.signals.filter((s) => !opts.signal!.includes(s)),
            }
          : { global: mode === 'on', signals: cur.signals };
        await op.setShadow(next, opts.reason ?? '');
        print(opts, next, () => `global shadow ${next.global ? 'ON' : 'off'}; shadowed signals: ${next.signals.join(', ') || 'none'}`);
      });
    });
}

/** `review heartbeat CASE`. */
function registerHeartbeat(review: Command): void {
  withConnOptions(review.command('heartbeat').argument('<case>', 'case id'))
    .description('reset the review heartbeat (only when the stack sets reviewHeartbeat)')
    .action(async (caseId: string, opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        await op.heartbeat(caseId);
        print(opts, { heartbeat: caseId }, () => `heartbeat sent for ${caseId}`);
      }),
    );
}

/** Counts by name, the largest first: `name n, name n`. */
function byCount(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
}

function signalOption(): Option {
  return new Option('--signal <signal>', 'only cases with this signal among their reasons');
}

function decisionOption(): Option {
  return new Option('--decision <decision>', 'only cases the scorer decided this way').choices(['review', 'suspend']);
}
