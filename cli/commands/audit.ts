import { Command, Option } from 'commander';
import { ConnOpts, print, table, withConnOptions, withOperator } from './ops-common';
import { auditCsv, listAudit, parseSince } from '../../ops/audit-query';
import { checked, positiveInt } from '../usage';

/** `distill-guard audit list [--since 7d] [--actor A] [--account ID] [--action X] [--json | --csv]`: the trail across cases. */
export function register(program: Command): void {
  const audit = program.command('audit').description('the audit trail across cases: who did what, when and why');
  withConnOptions(audit.command('list'))
    .description('audit entries, newest first')
    .option(
      '--since <when>',
      'from: 7d, 12h, 90m ago or an ISO date',
      checked((v) => parseSince(v)),
      '7d',
    )
    .option(
      '--until <when>',
      'to: 7d, 12h, 90m ago or an ISO date (default now)',
      checked((v) => parseSince(v)),
    )
    .option('--actor <who>', 'actor containing this text (IAM ARN, local:<user>, auto)')
    .option('--account <id>', 'this account only')
    .option('--action <action>', 'this action only (review-approved, suspended, allowlist-added, ...)')
    .option('--limit <n>', 'at most this many entries', positiveInt, 1000)
    .addOption(new Option('--csv', 'print CSV').conflicts('json'))
    .action(
      async (opts: ConnOpts & { since: string; until?: string; actor?: string; account?: string; action?: string; limit: number; csv?: boolean }) =>
        withOperator(opts, async (op) => {
          const limit = opts.limit;
          const entries = await listAudit(op.store, {
            sinceMs: parseSince(opts.since, op.store.now()),
            untilMs: opts.until ? parseSince(opts.until, op.store.now()) : undefined,
            actor: opts.actor,
            accountId: opts.account,
            action: opts.action,
            limit,
          });
          if (opts.csv) {
            process.stdout.write(auditCsv(entries));
            return;
          }
          print(opts, entries, () =>
            entries.length === 0
              ? 'no audit entries match'
              : table([
                  ['WHEN (UTC)', 'ACTOR', 'ACTION', 'CASE', 'ACCOUNT', 'REASON'],
                  ...entries.map((e) => [e.at, e.actor, e.action, e.caseId, e.accountId, e.reason ?? '']),
                ]),
          );
        }),
    );
}
