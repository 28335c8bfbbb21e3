/** Text and Markdown renderings of cost estimates (used by `distill-guard cost` and to regenerate docs/cost.md). */
import type { CostEstimate, IngestPath } from './model';
import { PRICES, PRICES_AS_OF, PRICES_REGION, type Price } from './prices';

export const PATH_TITLE: Record<IngestPath, string> = {
  cwl: 'CloudWatch Logs subscription path (API Gateway -> CloudWatch Logs -> subscription filter -> Kinesis -> aggregator)',
  firehose: 'Firehose path (API Gateway -> Amazon Data Firehose -> S3 -> S3 event -> SQS -> aggregator)',
};

export function usd(v: number): string {
  if (v >= 100) return `$${Math.round(v).toLocaleString('en-US')}`;
  if (v >= 1) return `$${v.toFixed(2)}`;
  if (v >= 0.01) return `$${v.toFixed(3)}`;
  if (v === 0) return '$0';
  return `$${v.toPrecision(2)}`;
}

function perM(v: number): string {
  return v >= 0.01 ? `$${v.toFixed(4)}` : v === 0 ? '$0' : `$${v.toPrecision(2)}`;
}

export function renderText(e: CostEstimate): string {
  const rows = e.lines.map((l) => [l.component, usd(l.monthlyUsd), perM(l.perMillionRequestsUsd)]);
  rows.push(['TOTAL', usd(e.monthlyUsd), perM(e.perMillionRequestsUsd)]);
  const head = ['component', 'monthly', 'per 1M requests'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `${r[0]!.padEnd(w[0]!)}  ${r[1]!.padStart(w[1]!)}  ${r[2]!.padStart(w[2]!)}`;
  const s = e.sizing;
  return [
    `${PATH_TITLE[e.inputs.path]}`,
    `  ${e.inputs.rps.toLocaleString('en-US')} req/s = ${(s.requestsPerMonth / 1e9).toFixed(2)} billion requests/month, ${e.inputs.activeAccounts.toLocaleString('en-US')} active accounts, ${e.inputs.recordBytes} B/record; ingest latency ~${Math.round(s.ingestLatencySeconds)} s`,
    line(head),
    line(w.map((n) => '-'.repeat(n))),
    ...rows.slice(0, -1).map(line),
    line(w.map((n) => '-'.repeat(n))),
    line(rows[rows.length - 1]!),
  ].join('\n');
}

export function renderMarkdown(e: CostEstimate): string {
  const out = ['| component | monthly | per 1M requests |', '| --- | ---: | ---: |'];
  for (const l of e.lines) out.push(`| ${l.component} | ${usd(l.monthlyUsd)} | ${perM(l.perMillionRequestsUsd)} |`);
  out.push(`| **total** | **${usd(e.monthlyUsd)}** | **${perM(e.perMillionRequestsUsd)}** |`);
  return out.join('\n');
}

export function renderPricesMarkdown(): string {
  const out = [
    `List prices, ${PRICES_REGION}, looked up ${PRICES_AS_OF}. Re-check them on the cited pages before relying on a figure.`,
    '',
    '| service | unit | USD | source |',
    '| --- | --- | ---: | --- |',
  ];
  for (const p of Object.values(PRICES) as Price[]) {
    const price = p.usd < 0.0001 ? `${(p.usd * 1e6).toPrecision(4)} per million` : String(p.usd);
    const tiers = p.tiers
      ? ` (tiers: ${p.tiers.map((t) => `${t.usd}${Number.isFinite(t.upTo) ? ` to ${t.upTo.toLocaleString('en-US')}` : ' beyond'}`).join(', ')})`
      : '';
    out.push(`| ${p.service} | ${p.unit} | ${price}${tiers} | [${p.sourceTitle}](${p.source}) |`);
  }
  return out.join('\n');
}
