/**
 * The shape of a settings table: one entry per deploy-time tunable, with its default, its rule (range, integer or
 * not, enum, pattern), its unit, the stage construct prop it sets and its one-line doc. Each stage keeps its table in
 * `lib/<stage>/settings.ts`; `lib/config.ts` joins them into the flat `distill-guard` context keys, `describeConfig()`
 * turns them into the configuration table of docs/deploy.md, `DistillGuard` maps them onto the stage props, and the
 * stage constructs and Lambda handlers read their ranges from them (docs/DESIGN.md, "Adding a tunable").
 *
 * No aws-cdk-lib import here or in any `settings.ts`: Lambda handlers import the tables too.
 */
import type { DistillGuardConfig } from './config';

/** The unit of a duration key (its name ends with it: `scoreLookbackHours`). */
export type DurationUnit = 'seconds' | 'minutes' | 'hours' | 'days';

/** How one flat config key is validated, documented, defaulted and mapped. */
export interface Setting<T = unknown> {
  readonly type: 'integer' | 'number' | 'boolean' | 'string' | 'enum' | 'accountIds' | 'stringArray' | 'object';
  /** The heading of docs/deploy.md's configuration table the key is listed under. */
  readonly group: 'general' | 'ingest' | 'demo API' | 'aggregate' | 'detect' | 'escalate' | 'notify' | 'observability';
  /** The value when neither cdk.json nor code sets the key: the `@default` of the key and of its construct prop. */
  readonly default: T;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly (string | number)[];
  readonly pattern?: RegExp;
  /** The key may be absent (no default). */
  readonly optional?: boolean;
  /** The key is a duration in this unit, and its construct prop (`prop`) a `Duration`. */
  readonly unit?: DurationUnit;
  /** The stage construct prop this key sets one to one (`DistillGuard` maps it); absent when the mapping is not. */
  readonly prop?: string;
  /** One line for the configuration table of docs/deploy.md. */
  readonly doc: string;
}

/** A settings table: entries for some keys of `DistillGuardConfig`, each typed like its key. */
export type SettingsTable = { readonly [K in keyof DistillGuardConfig]?: Setting<DistillGuardConfig[K]> };

/** Minutes per unit, for durations given in fractional hours or days (see `durationMinutes`). */
export const MINUTES_PER: Readonly<Record<DurationUnit, number>> = { seconds: 1 / 60, minutes: 1, hours: 60, days: 24 * 60 };

/**
 * A fractional duration key's value in whole minutes (`reviewTimeoutHours: 1.5` -> 90): the resolution every
 * fractional duration key is converted at. Integer keys convert exactly, in their own unit.
 */
export function durationMinutes(unit: DurationUnit, value: number): number {
  return Math.round(value * MINUTES_PER[unit]);
}

/** `value` is a number outside the setting's range, or a fraction where the setting wants an integer. */
export function outOfRange(setting: Setting, value: number): boolean {
  if (setting.type === 'integer' && !Number.isInteger(value)) return true;
  return (setting.min !== undefined && value < setting.min) || (setting.max !== undefined && value > setting.max);
}

function fail(key: string, rule: string, value: unknown): never {
  throw new Error(`distill-guard config '${key}' ${rule}, got ${JSON.stringify(value)}`);
}

/** Validate one value of key `key` against its setting; throws a lowercase error showing the value received. */
export function checkSetting(key: string, setting: Setting, value: unknown): void {
  switch (setting.type) {
    case 'boolean':
      if (typeof value !== 'boolean') fail(key, 'must be true or false', value);
      return;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(key, `must be a number`, value);
      if (setting.type === 'integer' && !Number.isInteger(value)) fail(key, 'must be an integer', value);
      if (outOfRange(setting, value as number)) fail(key, `must be between ${setting.min} and ${setting.max}`, value);
      return;
    }
    case 'string':
      if (typeof value !== 'string') fail(key, 'must be a string', value);
      if (setting.pattern && !setting.pattern.test(value as string)) fail(key, `must match ${setting.pattern}`, value);
      return;
    case 'enum':
      if (!setting.values!.includes(value as string | number))
        fail(key, `must be one of ${setting.values!.map((v) => JSON.stringify(v)).join(', ')}`, value);
      return;
    case 'accountIds':
      if (!Array.isArray(value) || value.some((a) => typeof a !== 'string' || !/^\d{12}$/.test(a))) {
        fail(key, 'must be a list of 12-digit aws account ids (as strings)', value);
      }
      return;
    case 'stringArray':
      if (!Array.isArray(value) || value.some((a) => typeof a !== 'string')) fail(key, 'must be a list of strings', value);
      return;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(key, 'must be a json object', value);
      return;
  }
}

/** A construct's check of an integer prop: `batchSize must be an integer in 1..10000, got 0`. */
export function checkIntegerProp(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in ${min}..${max}, got ${value}`);
}

/** The same check with the range of a setting (the construct prop set by that config key). */
export function checkIntegerSetting(name: string, value: number, setting: Setting): void {
  checkIntegerProp(name, value, setting.min!, setting.max!);
}
