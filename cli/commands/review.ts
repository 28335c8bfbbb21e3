import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('review')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('review is not implemented yet');
    });
}
