/**
 * Shared by `review`, `allowlist`, `breaker` and `console`: connection options (operator's own credentials,
 * `--region`, `--stack`, or the local runtime via `.local/endpoints.json` / `--local`) and small formatters.
 */
import { Command } from 'commander';
import type { Operator } from '../../lambdas/escalate/operator';

export interface ConnOpts {
  region?: string;
  stack?: string;
  local?: boolean;
  endpoints?: string;
  json?: boolean;
}

export function withConnOptions(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region (default: the SDK chain: AWS_REGION, profile)')
    .option('--stack <name>', 'CloudFormation stack to discover the resources from (default DistillGuard)')
    .option('--local', 'use the local runtime (`npm start`), default when .local/endpoints.json exists')
    .option('--endpoints <file>', 'local endpoints file (default .local/endpoints.json)')
    .option('--json', 'print JSON');
}

export async function connectOperator(opts: ConnOpts): Promise<Operator> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { connect } = require('../../lambdas/escalate/operator') as typeof import('../../lambdas/escalate/operator');
  return connect({ region: opts.region, stack: opts.stack, local: opts.local, endpointsFile: opts.endpoints });
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
  if (h < 48) return `${sign}${Math.floor(h)}h${String(Math.round(s % 60)).padStart(2, '0')}m`;
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
  if (!Number.isFinite(t)) throw new Error(`--expires must be a duration like 7d, 12h, 90m or an ISO date, got '${value}'`);
  return t;
}

export function print(opts: ConnOpts, value: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(value, (_k, v) => (v instanceof Set ? [...v] : v), 2)}\n` : `${human()}\n`);
}
