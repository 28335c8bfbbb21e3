/**
 * Reads the reviewer feedback counters (lambdas/escalate/feedback.ts) for `distill-guard signals` and the console:
 * one query of the `FEEDBACK` partition of the byState index, which the operator and reviewer policies can read.
 */
import { FEEDBACK_GSI_PK } from '../src/escalate/model';
import { SignalFeedback, rankFeedback, summarizeFeedback } from '../src/escalate/feedback';
import { EscalationStore } from '../lambdas/escalate/store';

export interface SignalsReport {
  signals: SignalFeedback[];
  combinations: SignalFeedback[];
}

export async function signalFeedback(store: EscalationStore): Promise<SignalsReport> {
  const rows = (await store.queryState(FEEDBACK_GSI_PK, { limit: 5000 })).map(summarizeFeedback);
  return { signals: rankFeedback(rows.filter((r) => r.scope === 'signal')), combinations: rankFeedback(rows.filter((r) => r.scope === 'combo')) };
}
