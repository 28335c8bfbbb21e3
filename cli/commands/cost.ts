import { Command, InvalidArgumentError, Option } from 'commander';

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${v}'`);
    return n;
  };
}

function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (v: string): T => {
    if (!allowed.includes(v as T)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got '${v}'`);
    return v as T;
  };
}

interface CostOpts {
  rps: number;
  accounts?: number;
  recordBytes?: number;
  path?: 'cwl' | 'firehose';
  json?: boolean;
  markdown?: boolean;
  streamMode?: 'ON_DEMAND' | 'PROVISIONED';
  batchingWindow?: number;
  accountsPerBatch?: number;
  itemKb?: number;
  gsiProjection?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE_CHANGES';
  bufferSeconds?: number;
  bufferMib?: number;
  usageEvents?: boolean;
  featuresCapacity?: 'ON_DEMAND' | 'PROVISIONED';
  writeConcurrency?: number;
  parallelizationFactor?: number;
}

export function register(program: Command): void {
  program
    .command('cost')
    .description(
      'monthly and per-million-request cost of distill-guard at a request rate, component by component, for both ingestion paths (list prices, docs/cost.md)',
    )
    .requiredOption('--rps <n>', 'monitored API requests per second', num('--rps'))
    .option('--accounts <n>', 'active customer accounts (default 10000)', num('--accounts'))
    .option('--record-bytes <n>', 'bytes per access-log record (default 440, measured)', num('--record-bytes'))
    .option('--path <path>', 'only this ingestion path: cwl or firehose (default: both)', choice('--path', ['cwl', 'firehose'] as const))
    .option('--stream-mode <mode>', 'Kinesis capacity mode: ON_DEMAND or PROVISIONED', choice('--stream-mode', ['ON_DEMAND', 'PROVISIONED'] as const))
    .option('--batching-window <s>', 'aggregator event source mapping batching window, 0..300 seconds (default 5)', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 300) throw new InvalidArgumentError(`--batching-window must be between 0 and 300, got '${v}'`);
      return n;
    })
    .option('--accounts-per-batch <n>', 'distinct accounts per aggregator batch (default: derived from traffic skew)', num('--accounts-per-batch'))
    .option('--item-kb <n>', 'feature window item size in KB (default 2)', num('--item-kb'))
    .option(
      '--gsi-projection <p>',
      'features byHour GSI projection: INCLUDE_CHANGES (shipped), KEYS_ONLY or ALL',
      choice('--gsi-projection', ['INCLUDE_CHANGES', 'KEYS_ONLY', 'ALL'] as const),
    )
    .option('--buffer-seconds <s>', 'Firehose buffer interval, 0..900 (default 60)', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 900) throw new InvalidArgumentError(`--buffer-seconds must be between 0 and 900, got '${v}'`);
      return n;
    })
    .option(
      '--features-capacity <mode>',
      'features table capacity: ON_DEMAND (shipped) or PROVISIONED (auto scaling at 70%)',
      choice('--features-capacity', ['ON_DEMAND', 'PROVISIONED'] as const),
    )
    .option('--write-concurrency <n>', 'concurrent UpdateItem calls per aggregator invocation (default 16)', num('--write-concurrency'))
    .option('--parallelization-factor <n>', 'aggregator batches per shard, 1..10 (default 1)', num('--parallelization-factor'))
    .option('--buffer-mib <n>', 'Firehose buffer size in MiB, 1..128 (default 64)', num('--buffer-mib'))
    .option('--usage-events', 'the serving tier also puts one usage event per request on the stream')
    .addOption(new Option('--json', 'print the estimates (inputs, lines, sizing) as JSON').conflicts('markdown'))
    .option('--markdown', 'print Markdown tables (as in docs/cost.md)')
    .action((opts: CostOpts) => {
      const { comparePaths, renderText, renderMarkdown, PATH_TITLE, PRICES_AS_OF } =
        require('../../src/cost/index') as typeof import('../../src/cost/index');
      const both = comparePaths({
        rps: opts.rps,
        activeAccounts: opts.accounts,
        recordBytes: opts.recordBytes,
        streamMode: opts.streamMode,
        batchingWindowSeconds: opts.batchingWindow,
        accountsPerBatch: opts.accountsPerBatch,
        featureItemKb: opts.itemKb,
        gsiProjection: opts.gsiProjection,
        firehoseBufferSeconds: opts.bufferSeconds,
        firehoseBufferMiB: opts.bufferMib,
        usageEvents: opts.usageEvents,
        featuresCapacity: opts.featuresCapacity,
        writeConcurrency: opts.writeConcurrency,
        parallelizationFactor: opts.parallelizationFactor,
      });
      const paths = opts.path ? [opts.path] : (['cwl', 'firehose'] as const);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ pricesAsOf: PRICES_AS_OF, estimates: paths.map((p) => both[p]) }, null, 2)}\n`);
        return;
      }
      const blocks = paths.map((p) => (opts.markdown ? `**${PATH_TITLE[p]}**\n\n${renderMarkdown(both[p])}` : renderText(both[p])));
      const cwl = both.cwl.sizing;
      if (paths.includes('cwl') && !cwl.aggregatorKeepsUp) {
        blocks.push(
          `warning: on the cwl path the aggregator needs ~${cwl.aggregatorConcurrency.toFixed(1)} concurrent batches but has ${cwl.aggregatorLanes} lane(s) ` +
            `(shards x parallelizationFactor); try --write-concurrency 64 or --parallelization-factor N (docs/cost.md "What runs where")`,
        );
      }
      if (paths.length === 2) {
        const save = both.cwl.monthlyUsd - both.firehose.monthlyUsd;
        blocks.push(
          `firehose vs cwl: ${save >= 0 ? 'saves' : 'costs'} $${Math.abs(Math.round(save)).toLocaleString('en-US')}/month (${((Math.abs(save) / both.cwl.monthlyUsd) * 100).toFixed(0)}%), ` +
            `ingest latency ~${Math.round(both.firehose.sizing.ingestLatencySeconds)} s vs ~${Math.round(both.cwl.sizing.ingestLatencySeconds)} s`,
        );
      }
      blocks.push(`us-east-1 list prices looked up ${PRICES_AS_OF}, no free tier; re-check them (docs/cost.md lists the sources).`);
      process.stdout.write(`${blocks.join('\n\n')}\n`);
    });
}
