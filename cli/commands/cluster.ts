import { Command, InvalidArgumentError, Option } from 'commander';
import { ConnOpts, duration, print, sparkline, table, withConnOptions, withOperator } from './ops-common';
import { UsageError } from '../usage';

/**
 * `distill-guard cluster list | show ID [--member ACCOUNT] | decide ID --approve|--reject --reason … [--exclude ACCOUNT:REASON …]`
 * One review for a whole cluster (ops/cluster-operator.ts): the decision is recorded once and goes
 * to each member's own workflow, with the reviewer's own credentials.
 */
export function register(program: Command): void {
  const cluster = program.command('cluster').description('review a whole cluster at once: list, show, decide');
  const ops = () => require('../../ops/cluster-operator') as typeof import('../../ops/cluster-operator');

  withConnOptions(cluster.command('list'))
    .description('cluster cases, oldest first')
    .addOption(new Option('--state <state>', 'cluster case state').choices(['open', 'decided']).default('open'))
    .action(async (opts: ConnOpts & { state: 'open' | 'decided' }) =>
      withOperator(opts, async (op) => {
        const list = await ops().listClusterCases(op, opts.state);
        const now = Date.now();
        print(opts, list, () =>
          list.length === 0
            ? `no ${opts.state} cluster cases`
            : table([
                ['CLUSTER CASE', 'CLUSTER', 'AGE', 'LINKS TO', 'DECISION'],
                ...list.map((c) => [
                  c.clusterCaseId,
                  c.clusterId,
                  duration(now - Date.parse(c.createdAt)),
                  c.linkedCaseId ?? '-',
                  c.decision ? `${c.decision.approved ? 'approved' : 'rejected'} by ${c.decision.reviewer}` : '-',
                ]),
              ]),
        );
      }),
    );

  withConnOptions(cluster.command('show').argument('<id>', 'cluster case id'))
    .description("members and what links them, intent profile, timeline, audit; --member for one member's own case")
    .option('--member <account>', "show this member's own case and evidence")
    .action(async (id: string, opts: ConnOpts & { member?: string }) =>
      withOperator(opts, async (op) => {
        const v = await ops().showCluster(op, id);
        if (opts.member) {
          const m = v.members.find((x) => x.accountId === opts.member);
          if (!m) throw new Error(`account ${JSON.stringify(opts.member)} is not a member of cluster case ${id}`);
          const r = await op.show(m.caseId);
          print(
            opts,
            r,
            () =>
              `member ${m.accountId}: case ${m.caseId} (${r.case.state}${r.case.outcome ? `, ${r.case.outcome}` : ''}); distill-guard review show ${m.caseId} for the full evidence\n${JSON.stringify(r.case.evidence.totals)}`,
          );
          return;
        }
        const p = v.profile;
        const top5 = (shares: [string, number][]) =>
          shares
            .slice(0, 5)
            .map(([k, x]) => `${k} ${Math.round(x * 100)}%`)
            .join(', ');
        print(opts, v, () =>
          [
            `cluster case  ${v.header.clusterCaseId}  (cluster ${v.header.clusterId}, ${v.header.state}${v.header.linkedCaseId ? `, follows ${v.header.linkedCaseId}` : ''})`,
            ...(v.header.decision
              ? [
                  `decision      ${v.header.decision.approved ? 'APPROVED' : 'REJECTED'} by ${v.header.decision.reviewer} at ${v.header.decision.decidedAt}: ${v.header.decision.reason}`,
                ]
              : []),
            `members       ${p.members}  (${Object.entries(countBy(v.members.map((m) => m.caseState)))
              .map(([s, n]) => `${s} ${n}`)
              .join(', ')})`,
            `prompts       ${top5(p.promptClasses) || '- (no usage events)'}`,
            `models        ${top5(p.models) || '-'}`,
            `tokens        ${p.outputPerInput === null ? '-' : `${p.outputPerInput} output tokens per input token`}`,
            `pivot         ${p.pivot ? JSON.stringify(p.pivot) : '-'}`,
            `activity      ${sparkline(p.timeline.map((t) => t.n))}  ${p.requests} requests`,
            `joined        ${p.joins[0]?.at ?? '-'} .. ${p.joins[p.joins.length - 1]?.at ?? '-'}`,
            '',
            table([
              ['MEMBER', 'CASE', 'STATE', 'SCORE', 'LINKS'],
              ...v.members.map((m) => [
                m.accountId,
                m.caseId,
                m.excludedReason ? `${m.caseState} (excluded)` : m.outcome ? `${m.caseState}, ${m.outcome}` : m.caseState,
                m.score.toFixed(2),
                [...m.signals, ...m.links.map((l) => `${l.with}: ${l.links.join(', ')}`)].join('; ').slice(0, 160),
              ]),
            ]),
            '',
            'audit trail',
            table(v.audit.map((a) => [a.at, a.actor, a.action, a.accountId, a.reason ?? ''])),
          ].join('\n'),
        );
      }),
    );

  withConnOptions(cluster.command('decide').argument('<id>', 'cluster case id'))
    .description("one decision for every member whose case waits for review (each member's own guardrails apply)")
    .addOption(new Option('--approve', 'suspend the members').conflicts('reject'))
    .option('--reject', "close the members' cases without a suspension")
    .requiredOption('--reason <text>', 'why (audited on the cluster case and on every member)')
    .option('--exclude <account:reason...>', 'leave a member out, with a reason (repeatable)', excludeArg)
    .action(
      async (
        id: string,
        opts: ConnOpts & { approve?: boolean; reject?: boolean; reason: string; exclude?: Array<{ accountId: string; reason: string }> },
      ) => {
        if (!opts.approve && !opts.reject) throw new UsageError('give one of --approve or --reject');
        await withOperator(opts, async (op) => {
          const exclude = opts.exclude ?? [];
          const r = await ops().decideCluster(op, id, { approved: !!opts.approve, reason: opts.reason, exclude });
          print(opts, r, () =>
            [
              `${r.approved ? 'approved' : 'rejected'} ${id} as ${r.reviewer}${r.resumed ? ' (resumed the recorded decision)' : ''}: ${r.decided.length} members decided in ${(r.elapsedMs / 1000).toFixed(1)} s; each member's workflow applies it`,
              r.excluded.length ? `excluded: ${r.excluded.map((e) => `${e.accountId} (${e.reason})`).join(', ')}` : '',
              r.skipped.length ? `not waiting for review: ${r.skipped.map((s) => `${s.accountId} (${s.why})`).join(', ')}` : '',
              r.notReached.length ? `NOT REACHED (decide again to resume): ${r.notReached.map((s) => `${s.accountId} (${s.why})`).join(', ')}` : '',
            ]
              .filter(Boolean)
              .join('\n'),
          );
        });
      },
    );
}

function excludeArg(v: string, prev: Array<{ accountId: string; reason: string }> = []): Array<{ accountId: string; reason: string }> {
  const i = v.indexOf(':');
  if (i <= 0) throw new InvalidArgumentError(`expected ACCOUNT:REASON, got '${v}'`);
  return [...prev, { accountId: v.slice(0, i), reason: v.slice(i + 1) }];
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
