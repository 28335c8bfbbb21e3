import { Command } from 'commander';

/**
 * The `distill-guard` command line. Each sub-command lives in `cli/commands/<name>.ts` and exports
 * `register(program)`; modules are loaded lazily so that `replay` does not pay for the CDK or emulators.
 */
const COMMANDS = ['replay', 'simulate', 'eval', 'bench', 'local', 'review', 'restrict', 'cluster', 'allowlist', 'breaker', 'console', 'events', 'cost', 'audit', 'signals'] as const;

async function main(): Promise<void> {
  const program = new Command('distill-guard')
    .description('Behavioural forensics against model distillation for LLM APIs')
    .showHelpAfterError();
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
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`distill-guard: ${message}\n`);
  process.exit(1);
});
