/**
 * The demo's closing summary: what the pipeline did (records, scores, cases, suspensions, restrictions, reviews,
 * events, function invocations), checked against the simulator's ground-truth labels, printed and as JSON.
 */
import { LocalSession } from '../runtime/session';
import { ApprovedReview } from './live-status';
import { DemoOutput, fmt, iso } from './options';

export interface SummaryInputs {
  readonly session: LocalSession;
  /** The simulator's labels by account id (`kind: 'campaign'` for extraction-campaign accounts). */
  readonly labels: Record<string, { kind: string }>;
  readonly startMs: number;
  readonly logTimeMs: number;
  readonly eventsPut: number;
  readonly approved: ApprovedReview[];
  readonly reinstated: Array<{ accountId: string; actor: string }>;
  /** When the demo started (for the elapsed time). */
  readonly t0: number;
}

export type DemoSummary = Awaited<ReturnType<typeof collectSummary>>;

/** Settle the pipeline and gather the figures. */
export async function collectSummary({ session, labels, startMs, logTimeMs, eventsPut, approved, reinstated, t0 }: SummaryInputs) {
  await session.settle(30_000);
  const counts = await session.counts();
  const evaluated = await session.featureAccounts().catch(() => 0);
  const m = session.rt.model;
  const st = session.rt.stats();
  const kin = st.mappings.filter((x) => x.kind === 'kinesis');
  const campaignIds = new Set(
    Object.entries(labels)
      .filter(([, l]) => l.kind === 'campaign')
      .map(([id]) => id),
  );
  const flagged = new Set([...counts.caseList.map((c) => c.accountId), ...counts.suspendedAccounts]);
  const campaignFlagged = [...flagged].filter((a) => campaignIds.has(a)).length;
  const organicFlagged = [...flagged].filter((a) => a && !campaignIds.has(a)).length;
  const keysDisabled = session.emu.apiGateway.apiKeys().filter((k) => !k.enabled).length;
  // Keys on the restricted usage plan: what the restrict step throttled (recorded by the local API Gateway).
  const restrictedPlan = m.usagePlans.find((p) => /RestrictedUsagePlan/.test(p.logicalId));
  const keysRestricted = restrictedPlan ? (session.emu.apiGateway.usagePlans().find((p) => p.id === restrictedPlan.id)?.keys.length ?? 0) : 0;
  const fnStats = Object.entries(st.functions).filter(([, f]) => f.invocations > 0);
  const summary = {
    stack: m.stackName,
    logTime: { from: iso(startMs), to: iso(logTimeMs) },
    requestsPut: eventsPut,
    usageEventsPut: session.writer.stats.usageEvents,
    kinesisRecordsPut: session.writer.stats.records,
    recordsIngested: kin.reduce((s, x) => s + x.recordsDelivered, 0),
    recordsToFailureDestination: kin.reduce((s, x) => s + x.recordsDiscarded, 0),
    accountsScored: Math.max(evaluated, counts.accountsScored),
    accountsWithScoreRecord: counts.accountsScored,
    decisions: counts.decisions,
    casesOpened: counts.cases,
    casesByState: counts.casesByState,
    accountsSuspended: counts.suspended,
    queuedForReview: session.pendingReviews(),
    reviewsApproved: approved.filter((a) => a.caseId !== 'failed'),
    apiKeysDisabled: keysDisabled,
    apiKeysRestricted: keysRestricted,
    reinstated,
    eventsDelivered: {
      rule: 'local-ban-event-subscriber',
      total: session.subscriberStats.received,
      byDetailType: session.subscriberStats.byDetailType,
    },
    groundTruth: { campaignAccounts: campaignIds.size, campaignAccountsWithCase: campaignFlagged, organicAccountsWithCase: organicFlagged },
    scheduleTicks: st.scheduleTicks,
    functions: Object.fromEntries(fnStats.map(([k, f]) => [k, { invocations: f.invocations, errors: f.errors, timeouts: f.timeouts }])),
    elapsedSeconds: Math.round((Date.now() - t0) / 1000),
  };
  return { summary, restrictedPlan, fnStats };
}

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** Print the summary lines. */
export function printSummary({ summary, restrictedPlan, fnStats }: DemoSummary, run: { seed: string; accounts: number }, { out }: DemoOutput): void {
  const g = summary.groundTruth;
  out('');
  out('distill-guard local: summary');
  out(
    `  log time            ${summary.logTime.from} .. ${summary.logTime.to} (seed ${run.seed}, ${run.accounts} simulated accounts, ${g.campaignAccounts} in extraction campaigns)`,
  );
  out(
    `  records ingested    ${fmt(summary.recordsIngested)} Kinesis records (${fmt(summary.requestsPut)} access-log events in CloudWatch envelopes + ${fmt(summary.usageEventsPut)} usage events); ${summary.recordsToFailureDestination} to the on-failure destination`,
  );
  out(
    `  accounts scored     ${fmt(summary.accountsScored)} with features in the scorer's lookback; score records kept for ${summary.accountsWithScoreRecord} (${list(summary.decisions)})`,
  );
  out(`  cases opened        ${summary.casesOpened} (${list(summary.casesByState)})`);
  out(
    `  accounts suspended  ${summary.accountsSuspended} (API keys disabled: ${summary.apiKeysDisabled}); queued for review now: ${summary.queuedForReview}`,
  );
  out(
    `  accounts restricted ${summary.apiKeysRestricted} API keys on the restricted usage plan (${restrictedPlan ? `rate ${restrictedPlan.throttle?.rateLimit}/s, burst ${restrictedPlan.throttle?.burstLimit}` : 'no restricted plan in the template'}); step-up set in their status`,
  );
  for (const a of summary.reviewsApproved)
    out(`  review              case ${a.caseId} (account ${a.accountId}) approved by ${a.reviewer} through the signed review API`);
  for (const r of summary.reinstated)
    out(`  reinstated          account ${r.accountId} by ${r.actor} (the undo path: status restored, keys re-enabled)`);
  out(
    `  events delivered    ${summary.eventsDelivered.total} to subscriber rule local-ban-event-subscriber (${list(summary.eventsDelivered.byDetailType)})`,
  );
  out(
    `  ground truth        cases for ${g.campaignAccountsWithCase}/${g.campaignAccounts} campaign accounts and ${g.organicAccountsWithCase} organic accounts (labels used only here, never by detection)`,
  );
  out(
    `  functions           ${fnStats.map(([k, f]) => `${k.replace(/[0-9A-F]{8}$/, '')} ${f.invocations}${f.errors ? ` (${f.errors} errors)` : ''}`).join(', ')}`,
  );
  out(`  elapsed             ${summary.elapsedSeconds} s`);
}
