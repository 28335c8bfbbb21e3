/**
 * Plan the single DynamoDB UpdateItem that applies one window delta exactly once.
 *
 * One request does everything for an (account, window) in a batch, atomically:
 * - `ADD` every counter and set element of the delta;
 * - `SET wm:<lane> = <max seq>` for each delivery lane (Kinesis shard) that contributed, under the condition
 *   `attribute_not_exists(wm:<lane>) OR wm:<lane> < <min seq>`: a redelivered record can never be added twice;
 * - keep sets within WINDOW_LIMITS with `size(set) <= cap - k` conditions;
 * - keep firstTs/createdAt a minimum and lastTs a maximum (DynamoDB has no MIN/MAX update action): optimistic
 *   `if_not_exists` / `SET` guarded by `attribute_not_exists(x) OR x <= v`, which holds for time-ordered traffic;
 *   when it does not, the exact path replaces the value under `x > v` / `x < v`. Skipped entirely when the writer
 *   already knows (from earlier writes) that the stored value is at least as good.
 *
 * When the condition fails, the caller reads the stored item (ReturnValuesOnConditionCheckFailure=ALL_OLD) and
 * plans again with `known.item`: the delta is rebuilt from only the records above the stored watermarks (see
 * batch.ts `deltaAbove`), and sets/min/max are planned against the exact stored values.
 *
 * Pure TypeScript, no AWS import; the wire shapes are those of item.ts.
 */
import type { WindowAcc } from './accumulator';
import type { LaneRange } from './batch';
import {
  COUNTER_ATTR,
  COUNTER_FIELDS,
  OVERFLOW_ATTR,
  SET_ATTR,
  WATERMARK_PREFIX,
  accountPk,
  encodeSeq,
  expiresAtFor,
  gsiBucket,
  hourGsiPk,
  windowSk,
  type AttrValue,
} from './item';
import { OTHER_MODEL, SET_FIELDS, WINDOW_LIMITS, type SetField } from './window';

/** The internal set of model ids of a window (bounds the number of `m:<model>` attributes). */
export const MODEL_SET_ATTR = 'ms';

/** What the writer knows about the stored item. */
export interface KnownState {
  /** The exact stored item (e.g. from a failed conditional write), or null when it does not exist. */
  item?: Record<string, unknown> | null;
  /** Lower-bound knowledge from earlier successful writes (values only ever move one way). */
  firstTsAtMost?: number;
  lastTsAtLeast?: number;
  createdAtAtMost?: number;
  /**
   * Sets known to be full (at their WINDOW_LIMITS cap), with their exact content. A full set never changes
   * again (every writer respects the cap), so this knowledge stays exact and spares a conditional retry.
   */
  fullSets?: Partial<Record<SetField | 'models', ReadonlySet<string>>>;
}

export interface PlannedUpdate {
  Key: { pk: { S: string }; sk: { S: string } };
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttrValue>;
  /** Values this write establishes if it succeeds (for the writer's cache). */
  establishes: { firstTs?: number; lastTs?: number; createdAt?: number };
  /** Distinct set values this write had to drop because a set was full. */
  dropped: Partial<Record<SetField | 'models', number>>;
  /** Sets this write fills to their cap (exact content), for the writer's cache. */
  fills: Partial<Record<SetField | 'models', Set<string>>>;
}

export interface DeltaLike {
  accountId: string;
  windowStart: number;
  acc: WindowAcc;
  lanes: ReadonlyMap<string, LaneRange>;
}

class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttrValue> = {};
  private nameIds = new Map<string, string>();
  private v = 0;
  readonly add: string[] = [];
  readonly set: string[] = [];
  readonly cond: string[] = [];

  name(attr: string): string {
    let id = this.nameIds.get(attr);
    if (id === undefined) {
      id = `#a${this.nameIds.size}`;
      this.nameIds.set(attr, id);
      this.names[id] = attr;
    }
    return id;
  }

  value(val: AttrValue): string {
    const id = `:v${this.v++}`;
    this.values[id] = val;
    return id;
  }

  addNum(attr: string, n: number): void {
    if (n !== 0) this.add.push(`${this.name(attr)} ${this.value({ N: String(n) })}`);
  }
}

function storedNum(item: Record<string, unknown> | null | undefined, attr: string): number | undefined {
  const v = item?.[attr] as { N?: string } | undefined;
  return v && typeof v.N === 'string' ? Number(v.N) : undefined;
}

function storedSet(item: Record<string, unknown> | null | undefined, attr: string): Set<string> {
  const v = item?.[attr] as { SS?: string[] } | undefined;
  return new Set(v && Array.isArray(v.SS) ? v.SS : []);
}

/**
 * Plan the UpdateItem for `delta`. `known.item` (exact stored state, null = absent) switches on exact mode; with
 * no knowledge the plan is optimistic and guarded by conditions.
 */
export function planWindowUpdate(delta: DeltaLike, retentionDays: number, known: KnownState = {}): PlannedUpdate {
  const e = new Expr();
  const a = delta.acc;
  const exact = known.item !== undefined;
  const old = known.item ?? null;
  const dropped: PlannedUpdate['dropped'] = {};
  const fills: PlannedUpdate['fills'] = {};

  // Counters.
  for (const f of COUNTER_FIELDS) e.addNum(COUNTER_ATTR[f], a[f]);
  for (let i = 0; i < 60; i++) if (a.minutes[i] !== 0) e.addNum(`mm:${i}`, a.minutes[i]);
  for (const [k, v] of a.promptClasses) e.addNum(`pc:${k}`, v);

  // Bounded sets.
  for (const f of SET_FIELDS) {
    const attr = SET_ATTR[f];
    let overflow = a.overflow[f];
    let adding: string[];
    const full = known.fullSets?.[f];
    if (full && !exact) {
      adding = [];
      let fresh = 0;
      for (const x of a[f]) if (!full.has(x)) fresh++;
      overflow += fresh;
      if (fresh) dropped[f] = fresh;
    } else if (exact) {
      const have = storedSet(old, attr);
      const fresh = [...a[f]].filter((x) => !have.has(x));
      const room = Math.max(0, WINDOW_LIMITS[f] - have.size);
      adding = fresh.slice(0, room);
      if (fresh.length > room) {
        overflow += fresh.length - room;
        dropped[f] = fresh.length - room;
      }
      if (have.size + adding.length >= WINDOW_LIMITS[f]) fills[f] = new Set([...have, ...adding]);
    } else {
      adding = [...a[f]];
    }
    if (adding.length > 0) {
      const n = e.name(attr);
      e.add.push(`${n} ${e.value({ SS: adding })}`);
      e.cond.push(`(attribute_not_exists(${n}) OR size(${n}) <= ${e.value({ N: String(WINDOW_LIMITS[f] - adding.length) })})`);
    }
    e.addNum(OVERFLOW_ATTR[f], overflow);
  }

  // Models: `m:<model>` counters, bounded through the `ms` set of model ids.
  if (a.models.size > 0) {
    const fullModels = exact ? undefined : known.fullSets?.models;
    const haveModels = exact ? storedSet(old, MODEL_SET_ATTR) : (fullModels ?? null);
    const newIds: string[] = [];
    let other = a.models.get(OTHER_MODEL) ?? 0;
    const counts: Array<[string, number]> = [];
    let room = haveModels ? Math.max(0, WINDOW_LIMITS.models - haveModels.size) : WINDOW_LIMITS.models;
    let droppedModels = 0;
    for (const [m, k] of a.models) {
      if (m === OTHER_MODEL) continue;
      if (haveModels && haveModels.has(m)) counts.push([m, k]);
      else if (room > 0) {
        room--;
        newIds.push(m);
        counts.push([m, k]);
      } else {
        other += k;
        droppedModels++;
      }
    }
    if (droppedModels) dropped.models = droppedModels;
    if (exact && haveModels && haveModels.size + newIds.length >= WINDOW_LIMITS.models) fills.models = new Set([...haveModels, ...newIds]);
    for (const [m, k] of counts) e.addNum(`m:${m}`, k);
    e.addNum(`m:${OTHER_MODEL}`, other);
    if (newIds.length > 0) {
      const n = e.name(MODEL_SET_ATTR);
      e.add.push(`${n} ${e.value({ SS: newIds })}`);
      e.cond.push(`(attribute_not_exists(${n}) OR size(${n}) <= ${e.value({ N: String(WINDOW_LIMITS.models - newIds.length) })})`);
    }
  }

  // Min/max fields.
  const establishes: PlannedUpdate['establishes'] = {};
  const minMax = (attr: 'firstTs' | 'lastTs' | 'createdAt', v: number, dir: 'min' | 'max', boundKnown: number | undefined): void => {
    if (exact) {
      const cur = storedNum(old, attr);
      if (cur !== undefined && (dir === 'min' ? cur <= v : cur >= v)) return;
    } else if (boundKnown !== undefined && (dir === 'min' ? boundKnown <= v : boundKnown >= v)) {
      return;
    }
    const n = e.name(attr);
    const val = e.value({ N: String(v) });
    if (exact) {
      // We know the stored value is worse than ours: replace it, unless someone improved it meanwhile.
      e.set.push(`${n} = ${val}`);
      e.cond.push(`(attribute_not_exists(${n}) OR ${n} ${dir === 'min' ? '>' : '<'} ${val})`);
    } else if (dir === 'min') {
      // Optimistic, for time-ordered streams: a new item takes ours; an existing one is expected to be earlier
      // already (if it is later, the condition fails and the exact path replaces it).
      e.set.push(`${n} = if_not_exists(${n}, ${val})`);
      e.cond.push(`(attribute_not_exists(${n}) OR ${n} <= ${val})`);
    } else {
      e.set.push(`${n} = ${val}`);
      e.cond.push(`(attribute_not_exists(${n}) OR ${n} <= ${val})`);
    }
    establishes[attr] = v;
  };
  if (!a.isEmpty()) {
    minMax('firstTs', a.firstTs, 'min', known.firstTsAtMost);
    minMax('lastTs', a.lastTs, 'max', known.lastTsAtLeast);
  }
  if (a.accountCreatedAt !== null) minMax('createdAt', a.accountCreatedAt, 'min', known.createdAtAtMost);

  // Exactly-once watermarks, one per contributing lane.
  for (const [lane, r] of delta.lanes) {
    const n = e.name(WATERMARK_PREFIX + lane);
    e.set.push(`${n} = ${e.value({ S: encodeSeq(r.max) })}`);
    e.cond.push(`(attribute_not_exists(${n}) OR ${n} < ${e.value({ S: encodeSeq(r.min) })})`);
  }

  // Index and TTL (idempotent).
  e.set.push(`${e.name('gsi1pk')} = ${e.value({ S: hourGsiPk(delta.windowStart, gsiBucket(delta.accountId)) })}`);
  e.set.push(`${e.name('gsi1sk')} = ${e.value({ S: delta.accountId })}`);
  e.set.push(`${e.name('expiresAt')} = ${e.value({ N: String(expiresAtFor(delta.windowStart, retentionDays)) })}`);

  let expr = `SET ${e.set.join(', ')}`;
  if (e.add.length > 0) expr += ` ADD ${e.add.join(', ')}`;
  return {
    Key: { pk: { S: accountPk(delta.accountId) }, sk: { S: windowSk(delta.windowStart) } },
    UpdateExpression: expr,
    ConditionExpression: e.cond.length > 0 ? e.cond.join(' AND ') : undefined,
    ExpressionAttributeNames: e.names,
    ExpressionAttributeValues: e.values,
    establishes,
    dropped,
    fills,
  };
}

/** Plan the idempotent `MODEL#<m>/FIRST` minimum. */
export function planModelFirstSeen(model: string, ts: number): {
  Key: { pk: { S: string }; sk: { S: string } };
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttrValue>;
} {
  return {
    Key: { pk: { S: `MODEL#${model}` }, sk: { S: 'FIRST' } },
    UpdateExpression: 'SET #f = :t, #m = :m',
    ConditionExpression: 'attribute_not_exists(#f) OR #f > :t',
    ExpressionAttributeNames: { '#f': 'firstSeen', '#m': 'model' },
    ExpressionAttributeValues: { ':t': { N: String(ts) }, ':m': { S: model } },
  };
}
