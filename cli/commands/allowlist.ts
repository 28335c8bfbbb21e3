import { Command } from 'commander';
import { ConnOpts, expiresArg, listCommand, parseExpiry, print, withConnOptions, withOperator } from './ops-common';

/** `distill-guard allowlist add ACCOUNT --owner O --reason R --expires 30d | list | remove ACCOUNT --reason R` */
export function register(program: Command): void {
  const allow = program
    .command('allowlist')
    .description('accounts never suspended (owner, reason, expiry), checked when routing and right before a suspension');
  withConnOptions(allow.command('add').argument('<account>', 'account id'))
    .requiredOption('--owner <team>', 'who vouches for the account')
    .requiredOption('--reason <text>', 'why')
    .requiredOption('--expires <when>', 'expiry: 7d, 12h, 90m or an ISO date (an allowlist entry always expires)', expiresArg)
    .action(async (accountId: string, opts: ConnOpts & { owner: string; reason: string; expires: string }) =>
      withOperator(opts, async (op) => {
        const e = await op.allowlistAdd(accountId, opts.owner, opts.reason, parseExpiry(opts.expires));
        print(opts, e, () => `allowlisted ${accountId} until ${new Date(e.expiresAt * 1000).toISOString()} (owner ${e.owner})`);
      }),
    );
  listCommand(allow.command('list'), 'current (unexpired) entries', (op) => op.allowlistList(), 'allowlist is empty', {
    ACCOUNT: (e) => e.accountId,
    OWNER: (e) => e.owner,
    EXPIRES: (e) => new Date(e.expiresAt * 1000).toISOString(),
    BY: (e) => e.createdBy ?? '',
    REASON: (e) => e.reason,
  });
  withConnOptions(allow.command('remove').argument('<account>', 'account id'))
    .requiredOption('--reason <text>', 'why')
    .action(async (accountId: string, opts: ConnOpts & { reason: string }) =>
      withOperator(opts, async (op) => {
        await op.allowlistRemove(accountId, opts.reason);
        print(opts, { removed: accountId }, () => `removed ${accountId} from the allowlist`);
      }),
    );
}
