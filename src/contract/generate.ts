/**
 * Generates, from schemas/*.json, the two things that must never drift from them: the typed bindings
 * (src/contract/types.generated.ts, with json-schema-to-typescript) and the field tables and examples of
 * docs/contract.md (between `<!-- generated:... -->` markers; the prose around them is hand-written).
 * `npm run gen:types` writes both; `npm run gen:types -- --check` (run by test/contract/generated.test.ts, so in
 * CI) regenerates them in memory and fails when the committed files differ.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { DOC_FILE, renderContractDoc } from './doc';
import { CONTRACT_SCHEMAS, JsonSchema } from './schemas';

const ROOT = path.join(__dirname, '..', '..');
export const TYPES_FILE = path.join(ROOT, 'src', 'contract', 'types.generated.ts');

const BANNER = `/* eslint-disable */
/**
 * Types of the public formats (docs/contract.md), generated from schemas/*.json by \`npm run gen:types\`.
 * Do not edit: change the schema and regenerate (a test fails when this file and the schemas differ).
 */`;

/** The name a schema's root type gets: its title, or `<Title>Event` for a ban event (its detail keeps the title). */
function rootName(schema: JsonSchema): string {
  const title = String(schema.title).replace(/\s+/g, '');
  return schema['x-amazon-events-detail-type'] ? `${title}Event` : title;
}

/** The typed bindings, as the text of src/contract/types.generated.ts. */
export async function generateTypes(): Promise<string> {
  const parts: string[] = [BANNER];
  for (const { schema } of CONTRACT_SCHEMAS) {
    const name = rootName(schema);
    const copy = { ...structuredClone(schema), title: name };
    parts.push((await compile(copy, name, { bannerComment: '', additionalProperties: true, format: true })).trim());
  }
  return parts.join('\n\n') + '\n';
}

/**
 * Write both (default), or with `--check` only compare: exit 1 naming each stale file. The check runs in a
 * process of its own because json-schema-to-typescript's formatter (prettier) cannot load inside jest.
 */
async function main(check: boolean): Promise<void> {
  const doc = fs.readFileSync(DOC_FILE, 'utf8');
  const wanted: Array<[string, string]> = [
    [TYPES_FILE, await generateTypes()],
    [DOC_FILE, renderContractDoc(doc)],
  ];
  const stale = wanted
    .filter(([file, text]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text)
    .map(([file]) => path.relative(ROOT, file));
  if (check) {
    if (stale.length) throw new Error(`${stale.join(', ')} differ from what schemas/ generate; run npm run gen:types`);
    process.stdout.write('generated files match schemas/\n');
    return;
  }
  for (const [file, text] of wanted) fs.writeFileSync(file, text);
  process.stdout.write(`wrote ${wanted.map(([f]) => path.relative(ROOT, f)).join(' and the generated blocks of ')}\n`);
}

if (require.main === module) {
  main(process.argv.includes('--check')).catch((err: Error) => {
    process.stderr.write(`gen:types: ${err.message}\n`);
    process.exit(1);
  });
}
