/**
 * Profiles as JSON, and back, exactly: a sharded run builds each account shard's profiles once and every later stage
 * reads them from the run's records. Sets and maps keep their order (linkage interns attributes in set order), data
 * records stay prototype-free, and the first and last request times of an account that has only usage events
 * (infinite) survive.
 */
import { dataRecord } from '../shared/data-record';
import type { AccountProfile, HourCell } from './profile';

type SetField = 'ips' | 'subnets' | 'userAgents' | 'apiKeys' | 'templates';
const SET_FIELDS: readonly SetField[] = ['ips', 'subnets', 'userAgents', 'apiKeys', 'templates'];

/** The JSON form: sets as arrays, hours as [start, n, models] entries, infinite times as strings. */
export type EncodedProfile = Omit<AccountProfile, SetField | 'syncBuckets' | 'hours' | 'firstTs' | 'lastTs'> &
  Record<SetField, string[]> & {
    syncBuckets: number[];
    hours: [number, number, Record<string, number>][];
    firstTs: number | string;
    lastTs: number | string;
  };

const time = (t: number): number | string => (Number.isFinite(t) ? t : String(t));

export function encodeProfile(p: AccountProfile): EncodedProfile {
  const hours: EncodedProfile['hours'] = [];
  for (const [start, cell] of p.hours) hours.push([start, cell.n, cell.models]);
  return {
    ...p,
    ips: [...p.ips],
    subnets: [...p.subnets],
    userAgents: [...p.userAgents],
    apiKeys: [...p.apiKeys],
    templates: [...p.templates],
    syncBuckets: [...p.syncBuckets],
    hours,
    firstTs: time(p.firstTs),
    lastTs: time(p.lastTs),
  };
}

const record = (o: Record<string, number>): Record<string, number> => dataRecord(Object.entries(o));

export function decodeProfile(e: EncodedProfile): AccountProfile {
  const hours = new Map<number, HourCell>();
  for (const [start, n, models] of e.hours) hours.set(start, { n, models: record(models) });
  const p: AccountProfile = {
    ...e,
    hourOfDay: [...e.hourOfDay],
    hours,
    models: record(e.models),
    modelFirstUse: record(e.modelFirstUse),
    promptClasses: record(e.promptClasses),
    ips: new Set(),
    subnets: new Set(),
    userAgents: new Set(),
    apiKeys: new Set(),
    templates: new Set(),
    syncBuckets: new Set(e.syncBuckets),
    firstTs: Number(e.firstTs),
    lastTs: Number(e.lastTs),
  };
  for (const f of SET_FIELDS) p[f] = new Set(e[f]);
  return p;
}
