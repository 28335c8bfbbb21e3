import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('console')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('console is not implemented yet');
    });
}
