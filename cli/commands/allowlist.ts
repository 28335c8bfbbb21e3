import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('allowlist')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('allowlist is not implemented yet');
    });
}
