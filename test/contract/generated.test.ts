/**
 * The CI check for the generated files: the typed bindings and the tables and examples of docs/contract.md are
 * regenerated in memory from schemas/ and must equal what is committed (run `npm run gen:types` after a schema change).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DOC_FILE, renderContractDoc } from '../../src/contract/doc';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

function check(cwd: string) {
  return spawnSync(process.execPath, [TSX, path.join(cwd, 'src', 'contract', 'generate.ts'), '--check'], { cwd, encoding: 'utf8', timeout: 120_000 });
}

describe('generated from schemas/', () => {
  it('src/contract/types.generated.ts and docs/contract.md are what the schemas generate (gen:types --check)', () => {
    const r = check(ROOT);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('the check fails, naming the file, when a schema changed and the types were not regenerated', () => {
    // A copy of the files the generator reads, with one schema changed.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-contract-'));
    for (const d of ['schemas', 'src/contract', 'src/notify', 'src/shared', 'docs'])
      fs.cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const file = path.join(dir, 'schemas', 'usage-event.json');
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    s.properties.inputTokens.type = 'string';
    fs.writeFileSync(file, JSON.stringify(s, null, 2));
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/src\/contract\/types\.generated\.ts.* differ from what schemas\/ generate; run npm run gen:types/);
  });

  it('the generated blocks of docs/contract.md are what the schemas and samples generate', () => {
    const doc = fs.readFileSync(DOC_FILE, 'utf8');
    expect(doc).toMatch(/<!-- generated:ban-event-common -->/);
    expect(doc).toBe(renderContractDoc(doc));
    const stale = doc.replace('| `status` | `$context.status` | string | yes |', '| `status` | `$context.status` | integer | yes |');
    expect(stale).not.toBe(doc);
    expect(renderContractDoc(stale)).toBe(doc);
  });
});
