import { Command } from 'commander';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmark the aggregator against a naive one-write-per-event baseline (starts DynamoDB Local itself)')
    .option('--events <n>', 'events for the in-process measurements', int('events'), 200_000)
    .option('--batch-records <n>', 'Kinesis records per batch', int('batch-records'), 100)
    .option('--events-per-record <n>', 'log events per CloudWatch Logs envelope', int('events-per-record'), 100)
    .option('--ddb-events <n>', 'events each side writes to DynamoDB Local', int('ddb-events'), 20_000)
    .option('--synthetic', 'use the built-in synthetic generator instead of the simulator', false)
    .action(async (o: { events: number; batchRecords: number; eventsPerRecord: number; ddbEvents: number; synthetic: boolean }) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runBench } = require('../../bench/run') as typeof import('../../bench/run');
      await runBench({ events: o.events, batchRecords: o.batchRecords, eventsPerRecord: o.eventsPerRecord, ddbEvents: o.ddbEvents, source: o.synthetic ? 'synthetic' : 'sim' });
    });
}
