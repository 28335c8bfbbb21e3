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
  CHANGE_MARKER_ATTR,
  COUNTER_ATTR,
  COUNTER_FIELDS,
  OVERFLOW_ATTR,
  SET_ATTR,
  WATERMARK_PREFIX,
  accountPk,
  changeMarker,
  encodeSeq,
  encodeSetValue,
  expiresAtFor,
  gsiBucket,
  hourGsiPk,
  MODEL_FIRST_SK,
  MODEL_PREFIX,
  windowSk,
  type AttrValue,
} from './item';
import { GSI_PK, GSI_SK } from '../shared/tables';
import { OTHER_MODEL, SET_FIELDS, WINDOW_LIMITS, type SetField } from './window';

/** Sets smaller than this are not remembered by writers (they cannot come near their cap in one batch). */
export const KNOWN_SET_MIN = 32;

/** The internal set of model ids of a window (bounds the number of `m:<model>` attributes). */
export const MODEL_SET_ATTR = 'ms';

/**
 * The Firehose path's exactly-once marker: the string set of S3 object (chunk) ids already applied to a window
 * item. Written by the same UpdateItem as the counters, under `NOT contains(wo, :id)` (lambdas/aggregate/object-core.ts).
 */
export const APPLIED_OBJECTS_ATTR = 'wo';

/** The object (chunk) ids stored in a window item's `wo` set. */
export function itemAppliedObjects(item: Record<string, unknown> | null | undefined): Set<string> {
  const v = item?.[APPLIED_OBJECTS_ATTR] as { SS?: string[] } | undefined;
  return new Set(v && Array.isArray(v.SS) ? v.SS : []);
}

/** What the writer knows about the stored item. */
export interface KnownState {
  /** The exact stored item (e.g. from a failed conditional write), or null when it does not exist. */
  item?: Record<string, unknown> | null;
  /** Lower-bound knowledge from earlier successful writes (values only ever move one way). */
  firstTsAtMost?: number;
  lastTsAtLeast?: number;
  createdAtAtMost?: number;
  /**
   * Known subsets of stored sets, members in their stored form (item.ts `encodeSetValue`), from an earlier exact
   * read plus this writer's own successful adds; sets only grow. With them a writer near a set's cap plans exactly, instead of failing an optimistic condition.
   */
  sets?: Partial<Record<SetField | 'models', ReadonlySet<string>>>;
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
  /** Known subsets of the stored sets after this write succeeds (large sets only), for the writer's cache. */
  setsAfter: Partial<Record<SetField | 'models', ReadonlySet<string>>>;
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
 * no knowledge the plan is optimistic and guarded by conditions. `appliedId` (S3 objects): add it to the item's
 * `wo` set under the condition that it is not there yet, in the same request. `changedAt` (the writer's clock, ms)
 * sets the change marker (`upd`, item.ts).
 */
export function planWindowUpdate(
  delta: DeltaLike,
  retentionDays: number,
  known: KnownState = {},
  appliedId?: string,
  changedAt: number = Date.now(),
): PlannedUpdate {
  const e = new Expr();
  const a = delta.acc;
  const dropped: PlannedUpdate['dropped'] = {};
  const setsAfter: PlannedUpdate['setsAfter'] = {};

  // Counters.
  for (const f of COUNTER_FIELDS) e.addNum(COUNTER_ATTR[f], a[f]);
  for (let i = 0; i < 60; i++) if (a.minutes[i] !== 0) e.addNum(`mm:${i}`, a.minutes[i]);
  for (const [k, v] of a.promptClasses) e.addNum(`pc:${k}`, v);

  planSets(e, a, known, dropped, setsAfter);
  if (a.models.size > 0) planModels(e, a, known, dropped, setsAfter);
  const establishes = planMinMax(e, a, known);
  planMarkers(e, delta, retentionDays, appliedId, changedAt);

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
    setsAfter,
  };
}

/**
 * Adds `adding` to a bounded set, with the condition that keeps it within `cap`. `have` is a known subset of the
 * stored set (exact mode: the stored set itself; otherwise what this writer learnt earlier, if anything).
 */
function condSet(e: Expr, attr: string, cap: number, adding: string[], have: ReadonlySet<string> | undefined, trimmed: boolean): void {
  if (adding.length === 0 && (!trimmed || have!.size >= cap)) return; // nothing to add, nothing to check
  const n = e.name(attr);
  if (adding.length > 0) e.add.push(`${n} ${e.value({ SS: adding })}`);
  if (trimmed) {
    // We dropped values because `have` is (nearly) full: only valid if the stored set is exactly `have`.
    if (have!.size >= cap) return; // a full set never changes again: nothing to check
    e.cond.push(have!.size === 0 ? `attribute_not_exists(${n})` : `size(${n}) = ${e.value({ N: String(have!.size) })}`);
  } else if (adding.length > 0) {
    e.cond.push(`(attribute_not_exists(${n}) OR size(${n}) <= ${e.value({ N: String(cap - adding.length) })})`);
  }
}

/** The bounded sets (IPs, subnets, user agents, keys, templates) and their overflow counters. */
function planSets(e: Expr, a: WindowAcc, known: KnownState, dropped: PlannedUpdate['dropped'], setsAfter: PlannedUpdate['setsAfter']): void {
  const exact = known.item !== undefined;
  const old = known.item ?? null;
  for (const f of SET_FIELDS) {
    const attr = SET_ATTR[f];
    const cap = WINDOW_LIMITS[f];
    let overflow = a.overflow[f];
    const have = exact ? storedSet(old, attr) : known.sets?.[f];
    let adding: string[];
    let trimmed = false;
    if (have) {
      const fresh: string[] = [];
      // Members are compared and written in their stored form (item.ts encodeSetValue).
      for (const x of a[f]) {
        const v = encodeSetValue(f, x);
        if (!have.has(v)) fresh.push(v);
      }
      const room = Math.max(0, cap - have.size);
      adding = fresh.length > room ? fresh.slice(0, room) : fresh;
      if (fresh.length > room) {
        trimmed = true;
        overflow += fresh.length - room;
        dropped[f] = fresh.length - room;
      }
      if (have.size + adding.length >= KNOWN_SET_MIN) setsAfter[f] = adding.length ? new Set([...have, ...adding]) : have;
    } else {
      adding = Array.from(a[f], (x) => encodeSetValue(f, x));
      // After this write the stored set contains at least `adding`: a known subset for the next plan.
      if (adding.length >= KNOWN_SET_MIN) setsAfter[f] = new Set(adding);
    }
    condSet(e, attr, cap, adding, have, trimmed);
    e.addNum(OVERFLOW_ATTR[f], overflow);
  }
}

/** Models: `m:<model>` counters, bounded through the `ms` set of model ids. */
function planModels(e: Expr, a: WindowAcc, known: KnownState, dropped: PlannedUpdate['dropped'], setsAfter: PlannedUpdate['setsAfter']): void {
  const exact = known.item !== undefined;
  const old = known.item ?? null;
  const cap = WINDOW_LIMITS.models;
  const have = exact ? storedSet(old, MODEL_SET_ATTR) : known.sets?.models;
  const newIds: string[] = [];
  let other = a.models.get(OTHER_MODEL) ?? 0;
  const counts: Array<[string, number]> = [];
  let room = have ? Math.max(0, cap - have.size) : cap;
  let droppedModels = 0;
  for (const [m, k] of a.models) {
    if (m === OTHER_MODEL) continue;
    if (have && have.has(m)) counts.push([m, k]);
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
  if (have && have.size + newIds.length >= KNOWN_SET_MIN) setsAfter.models = newIds.length ? new Set([...have, ...newIds]) : have;
  else if (!have && newIds.length >= KNOWN_SET_MIN) setsAfter.models = new Set(newIds);
  for (const [m, k] of counts) e.addNum(`m:${m}`, k);
  e.addNum(`m:${OTHER_MODEL}`, other);
  condSet(e, MODEL_SET_ATTR, cap, newIds, have, droppedModels > 0);
}

/** Min/max fields: what this write establishes if it succeeds. */
function planMinMax(e: Expr, a: WindowAcc, known: KnownState): PlannedUpdate['establishes'] {
  const exact = known.item !== undefined;
  const old = known.item ?? null;
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

  return establishes;
}

/** Exactly-once markers, the change marker, the index keys and the TTL. */
function planMarkers(e: Expr, delta: DeltaLike, retentionDays: number, appliedId: string | undefined, changedAt: number): void {
  // Exactly-once watermarks, one per contributing lane.
  for (const [lane, r] of delta.lanes) {
    const n = e.name(WATERMARK_PREFIX + lane);
    e.set.push(`${n} = ${e.value({ S: encodeSeq(r.max) })}`);
    e.cond.push(`(attribute_not_exists(${n}) OR ${n} < ${e.value({ S: encodeSeq(r.min) })})`);
  }

  // Exactly-once marker of an S3 object (chunk): the id joins the item's set with the counters, or nothing does.
  if (appliedId !== undefined) {
    const n = e.name(APPLIED_OBJECTS_ATTR);
    e.add.push(`${n} ${e.value({ SS: [appliedId] })}`);
    e.cond.push(`(attribute_not_exists(${n}) OR NOT contains(${n}, ${e.value({ S: appliedId })}))`);
  }

  // Change marker: the index projects it, and it only changes once per CHANGE_MARKER_MS, so the index entry is
  // not rewritten on every write; the scorer re-reads a window only when its marker says it may have changed.
  e.set.push(`${e.name(CHANGE_MARKER_ATTR)} = ${e.value({ N: String(changeMarker(changedAt)) })}`);

  // Index and TTL (idempotent).
  e.set.push(`${e.name(GSI_PK)} = ${e.value({ S: hourGsiPk(delta.windowStart, gsiBucket(delta.accountId)) })}`);
  e.set.push(`${e.name(GSI_SK)} = ${e.value({ S: delta.accountId })}`);
  e.set.push(`${e.name('expiresAt')} = ${e.value({ N: String(expiresAtFor(delta.windowStart, retentionDays)) })}`);
}

/** Plan the idempotent `MODEL#<m>/FIRST` minimum. */
export function planModelFirstSeen(
  model: string,
  ts: number,
): {
  Key: { pk: { S: string }; sk: { S: string } };
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttrValue>;
} {
  return {
    Key: { pk: { S: `${MODEL_PREFIX}${model}` }, sk: { S: MODEL_FIRST_SK } },
    UpdateExpression: 'SET #f = :t, #m = :m',
    ConditionExpression: 'attribute_not_exists(#f) OR #f > :t',
    ExpressionAttributeNames: { '#f': 'firstSeen', '#m': 'model' },
    ExpressionAttributeValues: { ':t': { N: String(ts) }, ':m': { S: model } },
  };
}
