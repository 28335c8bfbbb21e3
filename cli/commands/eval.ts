import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('eval')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('eval is not implemented yet');
    });
}
