import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePaths, renderMarkdown, usd } from '../../src/cost/index';

// docs/cost.md quotes the model's output; this keeps the page and the model from drifting apart.
const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'cost.md'), 'utf8');

describe('docs/cost.md', () => {
  it.each([
    [1000, 10_000],
    [10_000, 100_000],
    [100_000, 1_000_000],
  ])('holds the current component tables at %i rps / %i accounts', (rps, activeAccounts) => {
    const { cwl, firehose } = comparePaths({ rps, activeAccounts });
    expect(doc).toContain(renderMarkdown(cwl));
    expect(doc).toContain(renderMarkdown(firehose));
    expect(doc).toContain(usd(cwl.monthlyUsd));
    expect(doc).toContain(usd(firehose.monthlyUsd));
  });
});
