/**
 * The demo's live status line (log time, records, scores, cases, reviews, events), the hint that tells a human how
 * to review from another terminal, and the automatic approval of one review when nobody does it.
 */
import { LocalSession, PipelineCounts } from '../runtime/session';
import { DemoOutput, fmt, iso, LocalDemoOptions } from './options';

export interface ApprovedReview {
  caseId: string;
  accountId: string;
  reviewer: string;
}

export class LiveStatus {
  /** Reviews approved automatically (`caseId: 'failed'` when the approval failed). */
  readonly approved: ApprovedReview[] = [];
  logTime: number;
  eventsPut = 0;
  private lastCountsAt = 0;
  private lastLine = 0;
  private reviewHintShown = false;
  private firstReviewSeenAt = 0;
  readonly isTty: boolean;

  private constructor(
    private readonly session: LocalSession,
    private readonly o: Pick<LocalDemoOptions, 'autoApprove' | 'autoApproveAfter'>,
    private readonly io: DemoOutput,
    private counts: PipelineCounts,
    start: number,
  ) {
    this.isTty = Boolean(io.stream.isTTY);
    this.logTime = start;
  }

  static async start(
    session: LocalSession,
    o: Pick<LocalDemoOptions, 'autoApprove' | 'autoApproveAfter'>,
    io: DemoOutput,
    start: number,
  ): Promise<LiveStatus> {
    return new LiveStatus(session, o, io, await session.counts(), start);
  }

  /** Ends the status line on a terminal, before other output. */
  newline(): void {
    if (this.isTty) this.io.stream.write('\n');
  }

  /** Print the status (at most every 5 s off a terminal unless `force`), the review hint, and auto-approve when due. */
  async update(force = false): Promise<void> {
    const { session, io } = this;
    const now = Date.now();
    if (force || now - this.lastCountsAt > 2000) {
      this.counts = await session.counts().catch(() => this.counts);
      this.lastCountsAt = now;
    }
    const st = session.rt.stats();
    const ingested = st.mappings.filter((x) => x.kind === 'kinesis').reduce((s, x) => s + x.recordsDelivered, 0);
    const waiting = session.pendingReviews();
    const counts = this.counts;
    const line =
      `  log ${iso(this.logTime)} | put ${fmt(this.eventsPut)} requests (${fmt(session.writer.stats.records)} records) | ingested ${fmt(ingested)} records | ` +
      `scored ${fmt(counts.accountsScored)} | cases ${counts.cases} | suspended ${counts.suspended} | review waiting ${waiting} | events ${session.subscriberStats.received}`;
    if (this.isTty) io.stream.write(`\r\x1b[2K${line.slice(0, (io.stream.columns || 200) - 1)}`);
    else if (force || now - this.lastLine > 5000) {
      io.out(line);
      this.lastLine = now;
    }
    if (waiting > 0 && !this.reviewHintShown) this.showReviewHint(now);
    if (this.o.autoApprove && this.approved.length === 0 && waiting > 0 && now - this.firstReviewSeenAt >= Number(this.o.autoApproveAfter) * 1000) {
      await this.autoApprove();
    }
  }

  private showReviewHint(now: number): void {
    const { io, o } = this;
    this.reviewHintShown = true;
    this.firstReviewSeenAt = now;
    const pending = this.counts.caseList.find((c) => c.state === 'review');
    this.newline();
    io.out(`  >> a case is waiting for human review. From another terminal:`);
    io.out(`       npx distill-guard review list --local`);
    io.out(`       npx distill-guard review show ${pending?.caseId ?? 'CASE_ID'} --local`);
    io.out(`       npx distill-guard review approve ${pending?.caseId ?? 'CASE_ID'} --reason "confirmed extraction campaign" --local`);
    if (o.autoApprove)
      io.out(
        `     (otherwise one review is approved automatically ${Number(o.autoApproveAfter) > 0 ? `after ${o.autoApproveAfter} s` : 'now'}, through the same signed review API)`,
      );
  }

  /** Approve the first case in review through the signed review API, as a reviewer would. */
  private async autoApprove(): Promise<void> {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
      const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
      const op = await connect({ local: true, endpointsFile: this.session.stateFile, identity: 'local:npm-start-auto-approver' });
      const queue = await op.queue(['review']);
      const next = queue[0];
      if (!next) return;
      const r = await op.decide(next.caseId, true, 'auto-approved by npm start (demo of the review step; use --no-auto-approve to review by hand)');
      this.approved.push({ caseId: r.caseId, accountId: next.accountId, reviewer: r.reviewer });
      this.newline();
      this.io.out(`  >> approved review of case ${r.caseId} (account ${next.accountId}) as ${r.reviewer} through the review api (sigv4-signed)`);
    } catch (err) {
      this.newline();
      this.io.out(`  >> auto-approve failed: ${(err as Error).message}`);
      this.approved.push({ caseId: 'failed', accountId: '', reviewer: '' });
    }
  }
}
