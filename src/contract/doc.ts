/**
 * The generated parts of docs/contract.md: field tables and examples rendered from schemas/*.json and
 * schemas/examples/ into the blocks between `<!-- generated:<what> -->` and `<!-- /generated -->` (the prose around
 * them is hand-written). Rendering from the schemas keeps the doc and the schemas from drifting apart.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ACCESS_LOG_FIELDS, BAN_EVENT_DETAIL_FIELDS } from '../shared/contract';
import { CONTRACT_SCHEMAS } from './schemas';

const ROOT = path.join(__dirname, '..', '..');
export const DOC_FILE = path.join(ROOT, 'docs', 'contract.md');
export const EXAMPLES_DIR = path.join(ROOT, 'schemas', 'examples');

/**
 * The fields docs/contract.md names, per section. Everything else a schema has is one of our added
 * fields and is marked so in the doc; test/contract/schemas.test.ts checks every one of these stays in its schema.
 */
export const CONTRACT_FIELDS: Record<string, readonly string[]> = {
  'access-log-record.json': ACCESS_LOG_FIELDS.map(([k]) => k),
  'usage-event.json': ['type', 'requestId', 'accountId', 'timestamp', 'model', 'promptClass', 'templateId', 'inputTokens', 'outputTokens'],
  'replay-report.json': ['accounts', 'clusters'],
  'replay-report.json#/definitions/ReplayAccount': ['accountId', 'decision', 'score', 'reasons', 'clusterId', 'firstFlaggedAt'],
  'replay-report.json#/definitions/ReplayCluster': ['clusterId', 'accountIds', 'reasons'],
  'ban-event-detail': BAN_EVENT_DETAIL_FIELDS,
};

type Prop = {
  $ref?: string;
  properties?: Record<string, unknown>;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  items?: Prop;
  description?: string;
  'x-context-variable'?: string;
};
type ObjectSchema = { properties: Record<string, Prop>; required?: string[] };

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeText(p: Prop): string {
  if (p.$ref) return p.$ref.split('/').pop() ?? 'object';
  if (p.enum) return `${p.enum.length > 1 ? 'one of ' : ''}${p.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  const types = Array.isArray(p.type) ? p.type : [p.type ?? 'any'];
  const fields = p.properties
    ? ` {${Object.keys(p.properties)
        .map((k) => `\`${k}\``)
        .join(', ')}}`
    : '';
  return types
    .map((t) =>
      t === 'array' ? `${typeText(p.items ?? {})}[]` : p.format && t === 'string' ? `string (${p.format})` : `${t}${t === 'object' ? fields : ''}`,
    )
    .join(' or ');
}

function table(obj: ObjectSchema, contractFields: readonly string[], extraColumn?: { title: string; of: (name: string) => string }): string {
  const withContext = Object.values(obj.properties).some((p) => p['x-context-variable']);
  const head = ['field', ...(extraColumn ? [extraColumn.title] : []), ...(withContext ? ['`$context` variable'] : []), 'type', 'required', 'meaning'];
  const rows = Object.entries(obj.properties).map(([name, p]) => {
    const added = contractFields.includes(name) ? '' : ' *(added field)*';
    return [
      `\`${name}\``,
      ...(extraColumn ? [extraColumn.of(name)] : []),
      ...(withContext ? [`\`${p['x-context-variable'] ?? ''}\``] : []),
      typeText(p),
      obj.required?.includes(name) ? 'yes' : 'no',
      `${p.description ?? ''}${added}`,
    ].map(cell);
  });
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function resolve(ref: string): { file: string; obj: ObjectSchema } {
  const [file, pointer] = ref.split('#');
  const s = CONTRACT_SCHEMAS.find((c) => c.file === file);
  if (!s) throw new Error(`no schema ${file} in schemas/, got ${JSON.stringify(ref)}`);
  let node: unknown = s.schema;
  for (const key of (pointer ?? '').split('/').filter(Boolean)) node = (node as Record<string, unknown>)[key];
  if (!node || typeof node !== 'object') throw new Error(`no object at ${JSON.stringify(ref)}`);
  return { file, obj: node as ObjectSchema };
}

function banDetails(): Array<{ detailType: string; obj: ObjectSchema }> {
  return CONTRACT_SCHEMAS.filter((c) => c.section === 4).map(({ schema }) => {
    const defs = schema.definitions as Record<string, ObjectSchema>;
    return { detailType: String(schema['x-amazon-events-detail-type']), obj: Object.values(defs)[0] };
  });
}

/** Fields every ban-event detail has; required when every detail type requires it. */
function banCommon(): ObjectSchema {
  const all = banDetails();
  const names = Object.keys(all[0].obj.properties).filter((n) => all.every((d) => n in d.obj.properties));
  return {
    properties: Object.fromEntries(names.map((n) => [n, all[0].obj.properties[n]])),
    required: names.filter((n) => all.every((d) => d.obj.required?.includes(n))),
  };
}

/** Fields of one detail type only, in one table with a detail-type column. */
function banExtra(): string {
  const common = new Set(Object.keys(banCommon().properties));
  const props: Record<string, Prop> = {};
  const required: string[] = [];
  const owner: Record<string, string> = {};
  for (const { detailType, obj } of banDetails()) {
    for (const [n, p] of Object.entries(obj.properties)) {
      if (common.has(n)) continue;
      const key = `${n}\u0000${detailType}`;
      props[key] = p;
      owner[key] = detailType;
      if (obj.required?.includes(n)) required.push(key);
    }
  }
  const t = table({ properties: props, required }, [], { title: 'detail type', of: (k) => `\`${owner[k]}\`` });
  // eslint-disable-next-line no-control-regex -- NUL joins property name and detail type in the keys built above
  return t.replace(/`([^`\u0000]+)\u0000[^`]+`/g, '`$1`');
}

function example(file: string): string {
  const text = fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8');
  return '```json\n' + JSON.stringify(JSON.parse(text), null, 2) + '\n```';
}

/** Block contents by marker argument: `fields <file>[#pointer]`, `example <file>`, `ban-event-common`, `ban-event-extra`. */
function block(spec: string): string {
  const [kind, arg] = spec.trim().split(/\s+/);
  switch (kind) {
    case 'fields': {
      const { obj } = resolve(arg);
      return table(obj, CONTRACT_FIELDS[arg] ?? []);
    }
    case 'example':
      return example(arg);
    case 'ban-event-common':
      return table(banCommon(), CONTRACT_FIELDS['ban-event-detail']);
    case 'ban-event-extra':
      return banExtra();
    default:
      throw new Error(`unknown generated block ${JSON.stringify(spec)}`);
  }
}

const MARKED = /(<!-- generated:([^>]*?) -->\n)[\s\S]*?(<!-- \/generated -->)/g;

/** docs/contract.md with every generated block rewritten from the schemas and examples. */
export function renderContractDoc(doc: string): string {
  return doc.replace(MARKED, (_m, open: string, spec: string, close: string) => `${open}${block(spec)}\n${close}`);
}
