import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('bench')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('bench is not implemented yet');
    });
}
