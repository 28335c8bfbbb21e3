/**
 * Defaults of the escalate stage (lib/escalate): the documented `@default` of each Escalation prop. A prop set by a
 * config key takes its default from that key's entry in lib/escalate/settings.ts; the others are set here.
 * lambdas/escalate/steps.ts `configFromEnv` falls back to the same numbers when an environment variable is absent.
 */
import { Duration } from 'aws-cdk-lib';
import { ESCALATE_SETTINGS as S } from './settings';

export const ESCALATE_DEFAULTS = {
  /** A reviewer has a working day plus slack to decide; past it, the safe default applies (no suspension, case overdue). */
  reviewTimeout: Duration.hours(S.reviewTimeoutHours.default),
  /** First suspension (fail2ban `bantime`). */
  banBase: Duration.hours(S.banBaseHours.default),
  /** Multiplier per repeat offence (fail2ban `bantime.factor`, `2^n` formula). */
  banFactor: S.banFactor.default,
  /** Cap on any suspension (fail2ban `bantime.maxtime`). */
  banMax: Duration.days(S.banMaxDays.default),
  /** Offences are forgotten this long after the last suspension ended (fail2ban `dbpurgeage`). */
  banForgetAfter: Duration.days(S.banForgetAfterDays.default),
  /** Circuit breaker: most auto-suspensions in any sliding hour. */
  breakerMaxPerHour: S.breakerMaxPerHour.default,
  /** Circuit breaker: most auto-suspensions in an hour as a share of accounts active in that hour. */
  breakerMaxShare: S.breakerMaxShare.default,
  /** The share rule applies only from this many active accounts on. */
  breakerMinActiveForShare: S.breakerMinActiveForShare.default,
  /** Global shadow mode: off (decisions are applied). */
  shadowMode: S.shadowMode.default,
  /** Signals in shadow mode: none. */
  shadowSignals: S.shadowSignals.default,
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
  caseRetention: Duration.days(S.caseRetentionDays.default),
  /** An automatic restriction (restrict plus review) or a reviewer's restriction lasts this long. */
  restrictDuration: Duration.hours(S.restrictDurationHours.default),
  /** Workflow log retention. */
  logRetentionDays: 90,
} as const;
