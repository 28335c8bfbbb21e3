import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('events')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('events is not implemented yet');
    });
}
