import { comparePaths, usd } from '../src/cost/index';
const rows: Array<[number, number, string]> = [[1000, 10000, '1k'], [10000, 100000, '10k'], [100000, 1000000, '100k'], [1000000, 1000000, '1M']];
for (const proj of ['ALL', 'INCLUDE_CHANGES'] as const) {
  console.log('--', proj);
  for (const [rps, acc, label] of rows) {
    const { cwl, firehose } = comparePaths({ rps, activeAccounts: acc, gsiProjection: proj });
    const fw = (e: typeof cwl) => e.lines.find((l) => l.component.startsWith('DynamoDB feature writes'))!.monthlyUsd;
    const rd = (e: typeof cwl) => e.lines.find((l) => l.component.startsWith('DynamoDB scorer reads'))!.monthlyUsd;
    console.log(label, usd(cwl.monthlyUsd), cwl.perMillionRequestsUsd.toFixed(3), usd(firehose.monthlyUsd), firehose.perMillionRequestsUsd.toFixed(3), Math.round((1 - firehose.monthlyUsd / cwl.monthlyUsd) * 100) + '%', 'writes', usd(fw(cwl)), usd(fw(firehose)), 'reads', usd(rd(cwl)), 'fetched/run', Math.round(cwl.sizing.windowsFetchedPerScorerRun), 'of', Math.round(cwl.sizing.windowsReadPerScorerRun));
  }
}
console.log('-- tuned');
for (const [rps, acc, label] of rows.slice(0, 3)) {
  const t = comparePaths({ rps, activeAccounts: acc, featureItemKb: 1, featuresCapacity: 'PROVISIONED', writeConcurrency: 64, firehoseBufferSeconds: 300, firehoseBufferMiB: 128 });
  const t0 = comparePaths({ rps, activeAccounts: acc, gsiProjection: 'KEYS_ONLY', featureItemKb: 1, featuresCapacity: 'PROVISIONED', writeConcurrency: 64, firehoseBufferSeconds: 300, firehoseBufferMiB: 128 });
  console.log(label, 'INCLUDE_CHANGES', t.cwl.perMillionRequestsUsd.toFixed(3), t.firehose.perMillionRequestsUsd.toFixed(3), usd(t.firehose.monthlyUsd), '| KEYS_ONLY', t0.cwl.perMillionRequestsUsd.toFixed(3), t0.firehose.perMillionRequestsUsd.toFixed(3), usd(t0.firehose.monthlyUsd));
}
