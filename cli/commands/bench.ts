import { Command } from 'commander';
import { positiveInt } from '../usage';

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmark the aggregator against a naive one-write-per-event baseline (starts DynamoDB Local itself)')
    .option('--events <n>', 'events for the in-process measurements', positiveInt, 200_000)
    .option('--batch-records <n>', 'Kinesis records per batch', positiveInt, 100)
    .option('--events-per-record <n>', 'log events per CloudWatch Logs envelope', positiveInt, 100)
    .option('--ddb-events <n>', 'events each side writes to DynamoDB Local', positiveInt, 20_000)
    .option('--synthetic', 'use the built-in synthetic generator instead of the simulator', false)
    .option('--replay-logs <file>', "access-log file (.jsonl or .jsonl.gz) to measure replay on (default: the bench's own traffic)")
    .option('--json', 'print the figures as JSON on stdout (the table goes to stderr)')
    .action(
      async (o: {
        events: number;
        batchRecords: number;
        eventsPerRecord: number;
        ddbEvents: number;
        synthetic: boolean;
        replayLogs?: string;
        json?: boolean;
      }) => {
        const { runBench } = require('../../bench/run') as typeof import('../../bench/run');
        const log = o.json ? (l: string) => void process.stderr.write(`${l}\n`) : undefined;
        const r = await runBench({
          events: o.events,
          batchRecords: o.batchRecords,
          eventsPerRecord: o.eventsPerRecord,
          ddbEvents: o.ddbEvents,
          source: o.synthetic ? 'synthetic' : 'sim',
          replayLogs: o.replayLogs,
          log,
        });
        if (o.json) process.stdout.write(`${JSON.stringify({ ...r, opts: { ...(r.opts as object), log: undefined } }, null, 2)}\n`);
      },
    );
}
