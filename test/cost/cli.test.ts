import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(__dirname, '..', '..', 'bin', 'distill-guard.js');

describe('distill-guard cost', () => {
  it('prints the table for both paths', () => {
    const out = execFileSync(process.execPath, [bin, 'cost', '--rps', '1000'], { encoding: 'utf8' });
    expect(out).toContain('CloudWatch Logs subscription path');
    expect(out).toContain('Firehose path');
    expect(out).toMatch(/CloudWatch Logs ingestion \(access logs\)\s+\$\S+\s+\$\S+/);
    expect(out).toMatch(/Firehose ingestion/);
    expect(out.match(/TOTAL/g)).toHaveLength(2);
    expect(out).toMatch(/firehose vs cwl: saves/);
  });

  it('--json --path prints one estimate whose lines sum to its total', () => {
    const out = execFileSync(
      process.execPath,
      [bin, 'cost', '--rps', '5000', '--accounts', '20000', '--record-bytes', '480', '--path', 'firehose', '--json'],
      {
        encoding: 'utf8',
      },
    );
    const doc = JSON.parse(out) as {
      estimates: Array<{
        inputs: { path: string; recordBytes: number; activeAccounts: number };
        monthlyUsd: number;
        lines: Array<{ monthlyUsd: number }>;
      }>;
    };
    expect(doc.estimates).toHaveLength(1);
    const [e] = doc.estimates;
    expect(e!.inputs).toMatchObject({ path: 'firehose', recordBytes: 480, activeAccounts: 20000 });
    expect(e!.lines.reduce((s, l) => s + l.monthlyUsd, 0)).toBeCloseTo(e!.monthlyUsd, 6);
  });

  it('exits non-zero with a clear message on a bad rate', () => {
    const r = spawnSync(process.execPath, [bin, 'cost', '--rps', 'lots'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--rps must be a positive number, got 'lots'");
  });
});
