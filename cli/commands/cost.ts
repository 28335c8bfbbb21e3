import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('cost')
    .description('(not implemented yet)')
    .action(() => {
      throw new Error('cost is not implemented yet');
    });
}
