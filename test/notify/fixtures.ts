import { BanEventFields, DetailType } from '../../src/notify/ban-event';

export const DECIDED_AT = Date.UTC(2026, 10, 2, 0, 40, 0);

export function sampleFields(detailType: DetailType, over: Partial<BanEventFields> = {}): BanEventFields {
  const base: BanEventFields = {
    accountId: 'acct_1',
    caseId: 'case-acct_1-1793580000000',
    decidedBy: 'auto',
    reasons: ['synchronized-activity', 'shared-templates'],
    reasonDetails: [{ signal: 'synchronized-activity', value: 0.91, baseline: 0.1, text: '14 accounts sent the same prompts within 2 s' }],
    score: 0.97,
    clusterId: 'c-12',
    relatedAccountIds: ['acct_2', 'acct_3'],
    decidedAt: DECIDED_AT,
  };
  if (detailType === 'Account Flagged') Object.assign(base, { decision: 'suspend' });
  if (detailType === 'Account Suspended') Object.assign(base, { suspendedUntil: DECIDED_AT + 7 * 86400000, offence: 1 });
  if (detailType === 'Account Restricted')
    Object.assign(base, { restrictedUntil: DECIDED_AT + 86400000, stepUp: true, apiKeysRestricted: 1, durationMs: 86400000 });
  if (detailType === 'Account Reinstated') Object.assign(base, { decidedBy: 'reviewer:alice@example.com', reinstatedReason: 'overturned-on-review' });
  return { ...base, ...over };
}
