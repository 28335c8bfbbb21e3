import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('simulate')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('simulate is not implemented yet');
    });
}
