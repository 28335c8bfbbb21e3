/**
 * The JSON Schemas of the public formats (docs/contract.md) and validators for the three that are not ban events:
 * the access-log record, the usage event and the replay report. The ban-event validators live with the publisher
 * (src/notify/schemas.ts). All schemas are draft-04, like the ban events, so one dialect covers the repository.
 */
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import accessLogRecord from '../../schemas/access-log-record.json';
import usageEvent from '../../schemas/usage-event.json';
import replayReport from '../../schemas/replay-report.json';
import accountFlagged from '../../schemas/account-flagged.json';
import accountRestricted from '../../schemas/account-restricted.json';
import accountSuspended from '../../schemas/account-suspended.json';
import accountReinstated from '../../schemas/account-reinstated.json';

export type JsonSchema = Record<string, unknown>;

export interface ContractSchema {
  /** File under schemas/ (and, with the same name, its sample under schemas/examples/). */
  file: string;
  /** Section of docs/contract.md. */
  section: 1 | 2 | 3 | 4;
  schema: JsonSchema;
}

/** Every schema in schemas/, in the order of docs/contract.md. */
export const CONTRACT_SCHEMAS: readonly ContractSchema[] = [
  { file: 'access-log-record.json', section: 1, schema: accessLogRecord },
  { file: 'usage-event.json', section: 2, schema: usageEvent },
  { file: 'replay-report.json', section: 3, schema: replayReport },
  { file: 'account-flagged.json', section: 4, schema: accountFlagged },
  { file: 'account-restricted.json', section: 4, schema: accountRestricted },
  { file: 'account-suspended.json', section: 4, schema: accountSuspended },
  { file: 'account-reinstated.json', section: 4, schema: accountReinstated },
];

/** Keywords of ours and EventBridge's that carry documentation, not constraints. */
export const ANNOTATION_KEYWORDS = ['x-context-variable', 'x-amazon-events-source', 'x-amazon-events-detail-type'];

export interface ValidationResult {
  valid: boolean;
  /** `<instancePath> <message>` per error; empty when valid. */
  errors: string[];
}

let validators: Record<'access-log' | 'usage' | 'replay-report', ValidateFunction> | undefined;

function compiled() {
  if (!validators) {
    const ajv = new Ajv04({ allErrors: true, strict: true });
    addFormats(ajv);
    ajv.addVocabulary(ANNOTATION_KEYWORDS);
    validators = { 'access-log': ajv.compile(accessLogRecord), usage: ajv.compile(usageEvent), 'replay-report': ajv.compile(replayReport) };
  }
  return validators;
}

function check(fn: ValidateFunction, value: unknown): ValidationResult {
  const valid = fn(value) as boolean;
  return { valid, errors: valid ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`) };
}

/** An access-log record (docs/contract.md, "Access-log record"), as parsed from one log line. */
export function validateAccessLogRecord(value: unknown): ValidationResult {
  return check(compiled()['access-log'], value);
}

/** A usage event (docs/contract.md, "Usage event"). */
export function validateUsageEvent(value: unknown): ValidationResult {
  return check(compiled().usage, value);
}

/** A replay report (docs/contract.md, "Replay command and report"). */
export function validateReplayReport(value: unknown): ValidationResult {
  return check(compiled()['replay-report'], value);
}
