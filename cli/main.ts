import { Command } from 'commander';
import { configureProgram, exitOnError } from './usage';

/**
 * The `distill-guard` command line. Each sub-command lives in `cli/commands/<name>.ts` and exports
 * `register(program)`; modules are loaded lazily so that `replay` does not pay for the CDK or emulators.
 *
 * Exit codes, for scripts: 0 success (and --help, --version), 1 failure, 2 usage error (an unknown command or
 * option, a missing or malformed argument, an ambiguous target), always found before anything runs. Errors are
 * one line on stderr that shows the value received.
 */
const COMMANDS = [
  'replay',
  'simulate',
  'eval',
  'bench',
  'local',
  'review',
  'restrict',
  'cluster',
  'allowlist',
  'breaker',
  'console',
  'events',
  'cost',
  'audit',
  'signals',
  'indicators',
] as const;

/** The program with the sub-commands registered (only `wanted`'s module when it names one). */
export function buildProgram(wanted?: string): Command {
  // Set before the sub-commands are added: they inherit exitOverride and the error output.
  const program = configureProgram(
    new Command('distill-guard')
      .description('Behavioural forensics against model distillation for LLM APIs')
      .version((require('../package.json') as { version: string }).version, '-V, --version'),
  );
  for (const name of COMMANDS) {
    if (wanted && wanted !== name && COMMANDS.includes(wanted as (typeof COMMANDS)[number])) continue;
    const mod = require(`./commands/${name}`) as { register(p: Command): void };
    mod.register(program);
  }
  return program;
}

/** The entry point (bin/distill-guard.js); exits with the code scripts rely on. */
export function main(argv = process.argv): void {
  buildProgram(argv[2])
    .parseAsync(argv)
    .catch((err: unknown) => exitOnError(err));
}
