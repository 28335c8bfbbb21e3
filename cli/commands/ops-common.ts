/**
 * Shared by the operator commands (`review`, `cluster`, `allowlist`, `breaker`, `console`, `audit`, `signals`,
 * `restrict`, `events`): the target (the operator's own credentials with `--stack`/`--region`/`--profile`, or the
 * local runtime with `--local`), and small formatters. The target is always explicit: while `npm start` runs
 * (`.local/endpoints.json` exists) a command that names neither is a usage error, never a silent switch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { Operator } from '../../ops/operator';
import { UsageError, arg } from '../usage';

export interface ConnOpts {
  region?: string;
  stack?: string;
  profile?: string;
  local?: boolean;
  endpoints?: string;
  json?: boolean;
}

export const DEFAULT_ENDPOINTS = path.join('.local', 'endpoints.json');
const AWS_TARGET = ['stack', 'region', 'profile'];

/** `--local`/`--endpoints` or `--stack`/`--region`/`--profile`; giving both kinds is a usage error. */
export function withTargetOptions(cmd: Command, defaultStack?: string): Command {
  return cmd
    .addOption(new Option('--local', 'use the local runtime started by `npm start`').conflicts(AWS_TARGET))
    .addOption(new Option('--endpoints <file>', `local endpoints file (implies --local; default ${DEFAULT_ENDPOINTS})`).conflicts(AWS_TARGET))
    .addOption(
      new Option('--stack <name>', `deployed CloudFormation stack to find the resources from${defaultStack ? ` (default ${defaultStack})` : ''}`),
    )
    .addOption(new Option('--region <region>', "AWS region (default: AWS_REGION or the profile's region)"))
    .addOption(new Option('--profile <name>', 'AWS named profile for the credentials (default: AWS_PROFILE or the SDK chain)'));
}

export function withConnOptions(cmd: Command): Command {
  return withTargetOptions(cmd, 'DistillGuard').option('--json', 'print JSON');
}

/**
 * Where a command goes: local (with the endpoints file) or AWS. Nothing given while a local runtime is running is
 * ambiguous and refused; with no local runtime, the SDK chain decides (AWS_REGION, AWS_PROFILE, ...).
 */
export function resolveTarget(opts: ConnOpts, cwd = process.cwd()): { local: true; endpoints: string } | { local: false } {
  if (opts.local || opts.endpoints) return { local: true, endpoints: path.resolve(cwd, opts.endpoints ?? DEFAULT_ENDPOINTS) };
  if (!opts.stack && !opts.region && !opts.profile && fs.existsSync(path.resolve(cwd, DEFAULT_ENDPOINTS))) {
    throw new UsageError(
      `a local runtime is running (${DEFAULT_ENDPOINTS}) but no target was given: pass --local for it, or --stack/--region/--profile for AWS`,
    );
  }
  if (opts.profile) process.env.AWS_PROFILE = opts.profile;
  return { local: false };
}

export async function connectOperator(opts: ConnOpts): Promise<Operator> {
  const target = resolveTarget(opts);
  const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
  return target.local ? connect({ local: true, endpointsFile: target.endpoints }) : connect({ local: false, region: opts.region, stack: opts.stack });
}

/** Run an action with an operator, printing OperatorErrors as one line and closing the clients. */
export async function withOperator(opts: ConnOpts, fn: (op: Operator) => Promise<void>): Promise<void> {
  const op = await connectOperator(opts);
  try {
    await fn(op);
  } finally {
    op.destroy();
  }
}

export function duration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let s = Math.abs(ms) / 1000;
  if (s < 60) return `${sign}${Math.round(s)}s`;
  s /= 60;
  if (s < 60) return `${sign}${Math.round(s)}m`;
  const h = s / 60;
  const min = Math.round(s); // round once, so that 23h59.6m reads 24h00m, not 23h60m
  if (h < 48) return `${sign}${Math.floor(min / 60)}h${String(min % 60).padStart(2, '0')}m`;
  return `${sign}${Math.floor(h / 24)}d${Math.round(h % 24)}h`;
}

export function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ')).join('\n');
}

/** A unicode sparkline of a series. */
export function sparkline(values: number[]): string {
  const blocks = '▁▂▃▄▅▆▇█';
  const max = Math.max(1, ...values);
  return values.map((v) => blocks[Math.min(7, Math.floor((v / max) * 7.999))]).join('');
}

/** Parse `7d`, `12h`, `90m`, or an ISO date, into epoch ms. */
export function parseExpiry(value: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(value.trim());
  if (m) return now + Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new Error(`expected a duration like 7d, 12h, 90m or an ISO date, got '${value}'`);
  return t;
}

/** `--expires` checked while parsing (a usage error), kept as text: the expiry is computed when the command runs. */
export const expiresArg = arg((v: string) => {
  parseExpiry(v);
  return v;
});

export function print(opts: ConnOpts, value: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(value, (_k, v) => (v instanceof Set ? [...v] : v), 2)}\n` : `${human()}\n`);
}

/**
 * A read-only listing: fetch the rows with an operator and print them as a table (one column per entry of
 * `columns`, in order, headed by its key), or the `empty` line when there are none.
 */
export function listCommand<T>(
  cmd: Command,
  description: string,
  fetch: (op: Operator) => Promise<T[]>,
  empty: string,
  columns: Record<string, (x: T) => string>,
): Command {
  return withConnOptions(cmd)
    .description(description)
    .action(async (opts: ConnOpts) =>
      withOperator(opts, async (op) => {
        const rows = await fetch(op);
        print(opts, rows, () =>
          rows.length === 0 ? empty : table([Object.keys(columns), ...rows.map((r) => Object.values(columns).map((c) => c(r)))]),
        );
      }),
    );
}
