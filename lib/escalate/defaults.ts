/**
 * Defaults of the escalate stage (lib/escalate). Every value here is the documented `@default` of an Escalation
 * prop; change a default here and nowhere else. lambdas/escalate/steps.ts `configFromEnv` falls back to the
 * same numbers when an environment variable is absent.
 */
import { Duration } from 'aws-cdk-lib';
import { DEFAULT_CASE_RETENTION_DAYS } from '../../src/escalate/model';

export const ESCALATE_DEFAULTS = {
  /** A reviewer has a working day plus slack to decide; past it, the safe default applies (no suspension, case overdue). */
  reviewTimeout: Duration.hours(24),
  /** First suspension (fail2ban `bantime`). */
  banBase: Duration.hours(24),
  /** Multiplier per repeat offence (fail2ban `bantime.factor`, `2^n` formula). */
  banFactor: 2,
  /** Cap on any suspension (fail2ban `bantime.maxtime`). */
  banMax: Duration.days(30),
  /** Offences are forgotten this long after the last suspension ended (fail2ban `dbpurgeage`). */
  banForgetAfter: Duration.days(180),
  /** Circuit breaker: most auto-suspensions in any sliding hour. */
  breakerMaxPerHour: 20,
  /** Circuit breaker: most auto-suspensions in an hour as a share of accounts active in that hour. */
  breakerMaxShare: 0.01,
  /** The share rule applies only from this many active accounts on. */
  breakerMinActiveForShare: 200,
  /** Global shadow mode: off (decisions are applied). */
  shadowMode: false,
  /** Signals in shadow mode: none. */
  shadowSignals: [] as string[],
  /** How often the expirer reinstates accounts whose suspension has ended. */
  expiryInterval: Duration.minutes(5),
  /** How long a received review message stays hidden from other reviewers. */
  reviewVisibilityTimeout: Duration.seconds(30),
  /** A review message received this many times without being completed moves to the DLQ. */
  reviewMaxReceiveCount: 50,
  /** Cluster members whose features are read into a case's evidence snapshot. */
  maxClusterMembers: 20,
  /**
   * Cases (with their evidence: subnets, user agents, API key ids) and audit entries are deleted by DynamoDB TTL this
   * long after they were written: long enough to cover any suspension and a year of appeals, not forever.
   */
  caseRetention: Duration.days(DEFAULT_CASE_RETENTION_DAYS),
  /** An automatic restriction (restrict plus review) or a reviewer's restriction lasts this long. */
  restrictDuration: Duration.hours(24),
  /** Workflow log retention. */
  logRetentionDays: 90,
} as const;
