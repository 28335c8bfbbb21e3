/** CloudFormation intrinsic functions and pseudo parameters, resolved against the local physical names and attributes. */
import { CfnTemplate, CfnValue } from './model';

export class TemplateResolver {
  readonly refs = new Map<string, string>();
  readonly attrs = new Map<string, string>();
  constructor(
    private readonly template: CfnTemplate,
    private readonly pseudo: Record<string, string>,
  ) {}

  setRef(logicalId: string, value: string): void {
    this.refs.set(logicalId, value);
  }

  setAttr(logicalId: string, attr: string, value: string): void {
    this.attrs.set(`${logicalId}.${attr}`, value);
  }

  condition(name: string): boolean {
    const c = this.template.Conditions?.[name];
    if (c === undefined) throw new Error(`unknown condition ${name}`);
    return Boolean(this.resolve(c));
  }

  resolve(value: CfnValue): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const k = keys[0];
      const arg = obj[k];
      switch (k) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.+)/);
          return this.getAtt(id, String(this.resolve(attr)));
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          const resolved = this.resolve(parts) as unknown[];
          return resolved.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(sep);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Select': {
          const [idx, list] = arg as [unknown, unknown];
          const l = this.resolve(list) as unknown[];
          return l[Number(this.resolve(idx))];
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, unknown];
          return String(this.resolve(s)).split(sep);
        }
        case 'Fn::If': {
          const [cond, a, b] = arg as [string, unknown, unknown];
          return this.condition(cond) ? this.resolve(a) : this.resolve(b);
        }
        case 'Fn::Equals': {
          const [a, b] = arg as [unknown, unknown];
          return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
        }
        case 'Fn::Not':
          return !this.resolve((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((a) => Boolean(this.resolve(a)));
        case 'Fn::Or':
          return (arg as unknown[]).some((a) => Boolean(this.resolve(a)));
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::FindInMap': {
          const [m, k1, k2] = (arg as unknown[]).map((a) => this.resolve(a)) as string[];
          const v = this.template.Mappings?.[m]?.[k1]?.[k2];
          if (v === undefined) throw new Error(`fn::findinmap found nothing for ${m}.${k1}.${k2}`);
          return v;
        }
        case 'Fn::GetAZs':
          return [`${this.pseudo['AWS::Region']}a`, `${this.pseudo['AWS::Region']}b`, `${this.pseudo['AWS::Region']}c`];
        case 'Fn::Base64':
          return Buffer.from(String(this.resolve(arg))).toString('base64');
        case 'Fn::ImportValue':
          throw new Error(`fn::importvalue is not supported locally (got ${JSON.stringify(arg)})`);
        default:
          break;
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.resolve(v);
    return out;
  }

  ref(id: string): string {
    if (id in this.pseudo) return this.pseudo[id];
    if (id === 'AWS::NoValue') return undefined as unknown as string;
    const r = this.refs.get(id);
    if (r !== undefined) return r;
    const param = this.template.Parameters?.[id];
    if (param) return param.Default === undefined ? '' : String(param.Default);
    if (this.template.Resources[id]) return id;
    throw new Error(`ref to unknown logical id ${id}`);
  }

  getAtt(id: string, attr: string): string {
    const a = this.attrs.get(`${id}.${attr}`);
    if (a !== undefined) return a;
    const res = this.template.Resources[id];
    if (!res) throw new Error(`fn::getatt on unknown logical id ${id}.${attr}`);
    // Generic fallback: an ARN-looking value for anything we do not model.
    const { 'AWS::Partition': p, 'AWS::Region': r, 'AWS::AccountId': a2 } = this.pseudo;
    const service = res.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
    const name = this.ref(id);
    if (attr === 'Arn') return `arn:${p}:${service}:${r}:${a2}:${res.Type.split('::')[2]?.toLowerCase() ?? 'resource'}/${name}`;
    return `${name}.${attr}`;
  }

  private sub(arg: unknown): string {
    let str: string;
    let vars: Record<string, unknown> = {};
    if (Array.isArray(arg)) {
      str = String(arg[0]);
      vars = (this.resolve(arg[1] ?? {}) as Record<string, unknown>) ?? {};
    } else str = String(arg);
    return str.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      if (name in vars) return String(vars[name]);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return this.ref(name);
    });
  }
}
