import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('local')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('local is not implemented yet');
    });
}
