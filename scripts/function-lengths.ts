/**
 * Lists functions, methods, constructors and arrow functions longer than a limit,
 * so the code-size rule in docs/DESIGN.md is measured the same way each time.
 * A function's length is its line span (first to last line of its body), including
 * nested functions; sim/ and tests are left out, as the rule leaves them out.
 *
 *   npx tsx scripts/function-lengths.ts [--max 150] [--all]
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as ts from 'typescript';

const args = process.argv.slice(2);
const maxLines = Number(args[args.indexOf('--max') + 1] ?? 150) || 150;
const showAll = args.includes('--all');
const ROOTS = ['bin', 'cli', 'console', 'lambdas', 'lib', 'local', 'ops', 'src', 'bench', 'scripts'];

const files = execFileSync('git', ['ls-files', ...ROOTS], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.includes('.generated.'));

type Row = { file: string; name: string; line: number; lines: number };
const rows: Row[] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      rows.push({ file, name: nameOf(node), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function nameOf(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

const long = rows.filter((r) => r.lines > maxLines).sort((a, b) => b.lines - a.lines);
for (const r of showAll ? rows.sort((a, b) => b.lines - a.lines) : long) {
  console.log(`${String(r.lines).padStart(5)}  ${r.file}:${r.line}  ${r.name}`);
}
console.log(`${long.length} of ${rows.length} functions in ${files.length} files are longer than ${maxLines} lines`);
