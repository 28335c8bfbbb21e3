/**
 * Usage errors and argument parsers shared by the sub-commands. Every argument is checked by commander while it
 * parses (before an action runs, so before any network call); a bad value is a usage error (exit 2) whose one
 * line names the option and shows the value received. Renamed flags and commands stay as hidden aliases that
 * print a one-line deprecation notice, so existing scripts keep working.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

/** A usage error found by our own checks (an option combination commander cannot express): exit code 2. */
export class UsageError extends Error {}

/** Wrap a parser that throws a plain Error so that its failure is reported by commander as a usage error. */
export function arg<T>(parse: (v: string) => T): (v: string) => T {
  return (v: string) => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** Validate with `check` (which throws on a bad value) and keep the string (parsed later, e.g. against a clock). */
export function checked(check: (v: string) => unknown): (v: string) => string {
  return arg((v) => {
    check(v);
    return v;
  });
}

export function positiveInt(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${v}'`);
  return n;
}

/** A comma-separated list whose every item is one of `allowed` (`all` expands to `all` when given). */
export function choiceList(allowed: readonly string[], all?: readonly string[]): (v: string) => string[] {
  return (v: string) => {
    if (all && v.trim() === 'all') return [...all];
    const items = v.split(',').map((s) => s.trim());
    for (const s of items)
      if (!allowed.includes(s)) throw new InvalidArgumentError(`expected ${allowed.join(', ')}${all ? ' or all' : ''}, got '${s}'`);
    return items;
  };
}

/** One-line notice on stderr for a deprecated flag or command (stdout stays clean for scripts). */
export function deprecationNotice(old: string, replacement: string): void {
  process.stderr.write(`distill-guard: ${old} is deprecated, use ${replacement}\n`);
}

/**
 * A hidden option `old` that sets the same value as `current` and prints a deprecation notice. The parsed value is
 * stored under `current`'s attribute name, so the action sees only the new name.
 */
export function deprecatedOption(cmd: Command, flags: string, current: Option, parse?: (v: string) => unknown): Command {
  const old = new Option(flags).hideHelp();
  const oldName = old.long ?? flags;
  const attr = current.attributeName();
  old.argParser((v: string) => {
    deprecationNotice(oldName, current.long ?? attr);
    return parse ? parse(v) : v;
  });
  cmd.addOption(old);
  cmd.on(`option:${old.name()}`, () => {
    cmd.setOptionValueWithSource(attr, cmd.getOptionValue(old.attributeName()), 'cli');
  });
  return cmd;
}

const HINT = ' (run with --help for usage)';

/** Exit code of a usage error (commander's own errors and UsageError). */
export const USAGE_ERROR = 2;

/** Commander settings every entry point shares: errors as one line with the hint, and no process.exit inside. */
export function configureProgram(cmd: Command): Command {
  return cmd.exitOverride().configureOutput({ outputError: (str, write) => write(`${str.trimEnd()}${HINT}\n`) });
}

/** The exit path of every entry point: 0 for --help/--version, 2 for a usage error, 1 (one line) for a failure. */
export function exitOnError(err: unknown, prefix = 'distill-guard'): never {
  // Commander has already printed its own message (or the help, or the version).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR);
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}${HINT}\n`);
    process.exit(USAGE_ERROR);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${prefix}: ${message}\n`);
  process.exit(1);
}

/**
 * Run a script (`bench/*.ts`) through the CLI's parser: unknown flags, bad values and `--help` end before any work.
 * Its action's resolved value, when a number, is the exit code.
 */
export function runScript(cmd: Command, argv = process.argv): void {
  configureProgram(cmd)
    .parseAsync(argv)
    .then(() => process.exit(process.exitCode ?? 0))
    .catch((err: unknown) => exitOnError(err, cmd.name()));
}
