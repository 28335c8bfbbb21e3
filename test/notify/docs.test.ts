/** docs/events.md is what consuming teams copy from: its examples and pattern must be true. */
import * as fs from 'fs';
import * as path from 'path';
import { banEventId, DETAIL_TYPES, DetailType, SCHEMA_VERSION } from '../../src/notify/ban-event';
import { validateEventBridgeEvent } from '../../src/notify/schemas';
import { matchesEventPattern } from '../../local/services/event-pattern';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'events.md'), 'utf8');
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as Record<string, unknown>);
const examples = jsonBlocks.filter((b) => 'version' in b && 'detail-type' in b && 'detail' in b);
const pattern = jsonBlocks.find((b) => Array.isArray(b.source) && 'detail' in b)!;

describe('docs/events.md', () => {
  it('has one example event of each detail type, each valid against its schema', () => {
    expect(examples.map((e) => e['detail-type']).sort()).toEqual([...DETAIL_TYPES].sort());
    for (const e of examples) expect(validateEventBridgeEvent(e)).toEqual({ valid: true, errors: [] });
  });

  it('shows real event ids (the deterministic formula) and the current schema version', () => {
    for (const e of examples) {
      const d = e.detail as { eventId: string; accountId: string; caseId: string; decidedAt: string; schemaVersion: string; decidedAtMs: number };
      expect(d.eventId).toBe(banEventId(e['detail-type'] as DetailType, d.accountId, d.caseId, d.decidedAt));
      expect(d.schemaVersion).toBe(SCHEMA_VERSION);
      expect(d.decidedAtMs).toBe(Date.parse(d.decidedAt));
    }
  });

  it('its recommended pattern selects what it says it selects', () => {
    expect(pattern).toBeDefined();
    const byType = Object.fromEntries(examples.map((e) => [e['detail-type'], e]));
    expect(matchesEventPattern(pattern, byType['Account Reinstated'])).toBe(true); // decided by auto
    expect(matchesEventPattern(pattern, byType['Account Suspended'])).toBe(false); // decided by a reviewer
    expect(matchesEventPattern(pattern, byType['Account Flagged'])).toBe(false); // not a listed type
    const v2 = { ...byType['Account Reinstated'], detail: { ...(byType['Account Reinstated'].detail as object), schemaVersion: '2.0' } };
    expect(matchesEventPattern(pattern, v2)).toBe(false);
  });
});
