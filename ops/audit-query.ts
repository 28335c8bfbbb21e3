/**
 * `distill-guard audit list` and the console's audit view: the audit trail across cases, newest first, read from
 * the byState index by UTC day (`AUDIT#<yyyy-mm-dd>`; src/escalate/model.ts auditEntry), filtered by time, actor,
 * account and action. CSV export for spreadsheets: cells that a spreadsheet would run as a formula are quoted
 * with a leading apostrophe, since actors, reasons and account ids are not ours to trust.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AuditEntry, auditDayGsiPk } from '../src/escalate/model';
import { CONTROL_BY_STATE_INDEX } from '../src/shared/tables';
import { EscalationStore, OperatorError } from '../lambdas/escalate/store';

export interface AuditFilter {
  /** Epoch ms; entries at or after. @default 7 days ago */
  sinceMs?: number;
  /** Epoch ms; entries before. @default now */
  untilMs?: number;
  /** Who acted (a case-insensitive substring of the actor: IAM ARN, `local:<user>`, `auto`). */
  actor?: string;
  accountId?: string;
  action?: string;
  /** @default 1000 */
  limit?: number;
}

const DAY = 86_400_000;
/** Longest window one listing reads (a query per day): the default case retention. */
export const AUDIT_MAX_DAYS = 366;

/** Actor filter: case-insensitive substring, so `alice` finds `arn:aws:sts::1:assumed-role/Reviewer/alice`. */
const actorMatches = (actor: string, want: string) => actor.toLowerCase().includes(want.toLowerCase());

export async function listAudit(store: EscalationStore, f: AuditFilter = {}): Promise<AuditEntry[]> {
  const now = store.now();
  const until = f.untilMs ?? now;
  const since = f.sinceMs ?? now - 7 * DAY;
  if (!Number.isFinite(since) || !Number.isFinite(until)) throw new OperatorError(`since and until must be dates, got ${f.sinceMs} and ${f.untilMs}`);
  if (until - since > AUDIT_MAX_DAYS * DAY)
    throw new OperatorError(`the audit window must be at most ${AUDIT_MAX_DAYS} days, got ${Math.ceil((until - since) / DAY)}`);
  const limit = f.limit ?? 1000;
  const sinceIso = new Date(since).toISOString();
  const untilIso = new Date(until).toISOString();
  const out: AuditEntry[] = [];
  // Newest day first; within a day the index sorts by time.
  for (let day = Math.floor(until / DAY) * DAY; day >= Math.floor(since / DAY) * DAY && out.length < limit; day -= DAY) {
    let start: Record<string, unknown> | undefined;
    do {
      const r = await store.ddb.send(
        new QueryCommand({
          TableName: store.table,
          IndexName: CONTROL_BY_STATE_INDEX,
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :a AND :b',
          ExpressionAttributeValues: { ':p': auditDayGsiPk(new Date(day).toISOString()), ':a': sinceIso, ':b': `${untilIso}~` },
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      for (const e of (r.Items ?? []) as AuditEntry[]) {
        if (f.actor && !actorMatches(String(e.actor), f.actor)) continue;
        if (f.accountId && e.accountId !== f.accountId) continue;
        if (f.action && e.action !== f.action) continue;
        out.push(e);
      }
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
  }
  return out.slice(0, limit).map(({ gsi1pk: _p, gsi1sk: _s, ...e }) => e as AuditEntry);
}

export const AUDIT_CSV_COLUMNS = ['at', 'actor', 'action', 'caseId', 'accountId', 'reason', 'details'] as const;

/** One CSV cell (RFC 4180 quoting; formula-looking text neutralised with a leading apostrophe). */
export function csvCell(v: unknown): string {
  let s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditCsv(entries: AuditEntry[]): string {
  const rows = [
    AUDIT_CSV_COLUMNS.join(','),
    ...entries.map((e) => AUDIT_CSV_COLUMNS.map((c) => csvCell((e as unknown as Record<string, unknown>)[c])).join(',')),
  ];
  return `${rows.join('\r\n')}\r\n`;
}

/** `7d`, `12h`, `90m` ago, or an ISO date, as epoch ms. */
export function parseSince(value: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(value.trim());
  if (m) return now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY }[m[2] as 'm' | 'h' | 'd' | 'w'];
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw new OperatorError(`since must be a duration like 7d, 12h, 90m or an ISO date, got '${value}'`);
  return t;
}
