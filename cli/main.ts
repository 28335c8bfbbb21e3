import { Command, CommanderError } from 'commander';

/**
 * The `distill-guard` command line. Each sub-command lives in `cli/commands/<name>.ts` and exports
 * `register(program)`; modules are loaded lazily so that `replay` does not pay for the CDK or emulators.
 *
 * Exit codes, for scripts: 0 success (and --help, --version), 1 failure, 2 usage error (an unknown command or
 * option, a missing or malformed argument, caught by commander before anything runs).
 */
const COMMANDS = ['replay', 'simulate', 'eval', 'bench', 'local', 'review', 'restrict', 'cluster', 'allowlist', 'breaker', 'console', 'events', 'cost', 'audit', 'signals', 'indicators'] as const;

/** Exit code of a usage error (commander's own errors). */
const USAGE_ERROR = 2;

async function main(): Promise<void> {
  const program = new Command('distill-guard')
    .description('Behavioural forensics against model distillation for LLM APIs')
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .version((require('../package.json') as { version: string }).version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Set before the sub-commands are added: they inherit it.
    .exitOverride();
  const wanted = process.argv[2];
  for (const name of COMMANDS) {
    if (wanted && wanted !== name && COMMANDS.includes(wanted as (typeof COMMANDS)[number])) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`./commands/${name}`) as { register(p: Command): void };
    mod.register(program);
  }
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  // Commander has already printed its own message (or the help, or the version).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`distill-guard: ${message}\n`);
  process.exit(1);
});
