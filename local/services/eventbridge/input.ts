/** What a target receives: the event, or what a rule target's `Input`, `InputPath` or `InputTransformer` makes of it. */
import { EventEnvelope, TargetDefinition } from './types';

/** Minimal JSONPath for InputPath / InputPathsMap: `$`, `$.a.b`, `$.a[0]`, `$['a-b']`. */
export function simpleJsonPath(obj: unknown, path: string): unknown {
  if (path === '$') return obj;
  if (!path.startsWith('$')) throw new Error(`unsupported json path ${JSON.stringify(path)}`);
  const tokens: Array<string | number> = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]|\["([^"]+)"\]/g;
  let m: RegExpExecArray | null;
  let consumed = 1;
  while ((m = re.exec(path))) {
    if (m.index !== consumed) throw new Error(`unsupported json path ${JSON.stringify(path)}`);
    consumed = m.index + m[0].length;
    tokens.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (m[3] ?? m[4])));
  }
  if (consumed !== path.length) throw new Error(`unsupported json path ${JSON.stringify(path)}`);
  let cur: unknown = obj;
  for (const t of tokens) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[t];
  }
  return cur;
}

function applyTransformer(transformer: NonNullable<TargetDefinition['InputTransformer']>, event: EventEnvelope): { payload: unknown; body: string } {
  const vars: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(transformer.InputPathsMap ?? {})) vars[k] = simpleJsonPath(event, p);
  const tpl = transformer.InputTemplate;
  // In a JSON template a placeholder inside quotes takes the raw string, outside quotes the JSON value.
  const body = tpl.replace(/(")?<([\w.-]+)>(")?/g, (all, q1: string | undefined, name: string, q2: string | undefined) => {
    if (name === 'aws.events.event.json') return JSON.stringify(event);
    if (!(name in vars)) return all;
    const v = vars[name];
    if (q1 && q2) return JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v ?? null));
    return (q1 ?? '') + (typeof v === 'string' ? v : JSON.stringify(v ?? null)) + (q2 ?? '');
  });
  let payload: unknown = body;
  try {
    payload = JSON.parse(body);
  } catch {
    /* a plain-text template */
  }
  return { payload, body };
}

/** The target's payload (as a value, for Lambda) and body (as text, for SQS and Step Functions). */
export function transformInput(target: TargetDefinition, event: EventEnvelope): { payload: unknown; body: string } {
  if (target.Input !== undefined) return { payload: JSON.parse(target.Input), body: target.Input };
  if (target.InputPath) {
    const v = simpleJsonPath(event, target.InputPath);
    return { payload: v, body: JSON.stringify(v) };
  }
  if (target.InputTransformer) return applyTransformer(target.InputTransformer, event);
  return { payload: event, body: JSON.stringify(event) };
}
