import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('replay')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('replay is not implemented yet');
    });
}
