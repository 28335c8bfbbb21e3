import { Command, InvalidArgumentError } from 'commander';
import { ConnOpts, connectOperator, withConnOptions } from './ops-common';
import { nonNegativeInt } from '../usage';

/**
 * `distill-guard console [--port N]`: the reviewers' web console on 127.0.0.1, with the operator's own
 * credentials. Prints the URL with a per-session token (in the URL fragment: never sent to a server or logged).
 */
export function register(program: Command): void {
  withConnOptions(program.command('console'))
    .description('local web console: review queue, evidence charts, approve/reject/reinstate with a reason, audit trail')
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', portArg, 8787)
    .action(async (opts: ConnOpts & { port: number }) => {
      const port = opts.port;
      const op = await connectOperator(opts);
      const identity = await op.identity();
      const { startConsole } = require('../../console/server') as typeof import('../../console/server');
      const c = await startConsole({ operator: op, port, log: (l) => process.stderr.write(`console: ${l}\n`) });
      const target = op.resources.local ? 'local runtime' : `region ${op.resources.region}`;
      const lines = [
        `distill-guard console for ${identity} (${target})`,
        `open: ${c.loginUrl}`,
        `session token: ${c.token}`,
        'bound to 127.0.0.1 only; Ctrl-C to stop',
      ];
      process.stdout.write(opts.json ? `${JSON.stringify({ identity, target, url: c.loginUrl, token: c.token })}\n` : `${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void c.close().then(() => {
            op.destroy();
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

function portArg(v: string): number {
  const n = nonNegativeInt(v);
  if (n > 65535) throw new InvalidArgumentError(`expected a port 0..65535, got '${v}'`);
  return n;
}
