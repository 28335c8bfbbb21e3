import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('breaker')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('breaker is not implemented yet');
    });
}
