/**
 * The JSON Schemas of the ban events (schemas/*.json, JSON Schema draft-04 because the EventBridge schema registry
 * accepts `JSONSchemaDraft4` and `OpenApi3` only) and validators for them. Each file describes the whole
 * EventBridge event (envelope); its `definitions.<Name>` is the detail.
 */
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import accountFlagged from '../../schemas/account-flagged.json';
import accountRestricted from '../../schemas/account-restricted.json';
import accountSuspended from '../../schemas/account-suspended.json';
import accountReinstated from '../../schemas/account-reinstated.json';
import { DETAIL_TYPES, DetailType, EVENT_SOURCE } from '../shared/contract';
import type { BanEvent } from './ban-event';

export interface BanEventSchemaInfo {
  detailType: DetailType;
  /** File under schemas/. */
  file: string;
  /** Registry schema name: `distill-guard@<DetailTypeNoSpaces>` (the AWS `<source>@<DetailType>` convention). */
  schemaName: string;
  /** Name of the detail definition inside the schema. */
  definition: string;
  schema: Record<string, unknown>;
}

export const BAN_EVENT_SCHEMAS: Record<DetailType, BanEventSchemaInfo> = {
  'Account Flagged': info('Account Flagged', 'account-flagged.json', accountFlagged),
  'Account Restricted': info('Account Restricted', 'account-restricted.json', accountRestricted),
  'Account Suspended': info('Account Suspended', 'account-suspended.json', accountSuspended),
  'Account Reinstated': info('Account Reinstated', 'account-reinstated.json', accountReinstated),
};

function info(detailType: DetailType, file: string, schema: unknown): BanEventSchemaInfo {
  const definition = detailType.replace(/\s+/g, '');
  return { detailType, file, schemaName: `${EVENT_SOURCE}@${definition}`, definition, schema: schema as Record<string, unknown> };
}

export interface ValidationResult {
  valid: boolean;
  /** `<instancePath> <message>` per error; empty when valid. */
  errors: string[];
}

let ajv: Ajv04 | undefined;
const envelopeValidators = new Map<DetailType, ValidateFunction>();
const detailValidators = new Map<DetailType, ValidateFunction>();

function compiler(): Ajv04 {
  if (!ajv) {
    ajv = new Ajv04({ allErrors: true, strict: true });
    addFormats(ajv);
    // EventBridge's extension keywords (what the registry uses for code bindings).
    ajv.addVocabulary(['x-amazon-events-source', 'x-amazon-events-detail-type']);
    for (const dt of DETAIL_TYPES) ajv.addSchema(BAN_EVENT_SCHEMAS[dt].schema);
  }
  return ajv;
}

function validatorFor(detailType: DetailType, part: 'envelope' | 'detail'): ValidateFunction {
  if (!(DETAIL_TYPES as readonly string[]).includes(detailType)) {
    throw new Error(`detail type must be one of ${DETAIL_TYPES.join(', ')}, got ${JSON.stringify(detailType)}`);
  }
  const cache = part === 'envelope' ? envelopeValidators : detailValidators;
  let fn = cache.get(detailType);
  if (!fn) {
    const s = BAN_EVENT_SCHEMAS[detailType];
    const id = s.schema.id as string;
    const ref = part === 'envelope' ? id : `${id}#/definitions/${s.definition}`;
    const got = compiler().getSchema(ref);
    if (!got) throw new Error(`schema ${ref} is missing`);
    fn = got;
    cache.set(detailType, fn);
  }
  return fn;
}

function result(fn: ValidateFunction, value: unknown): ValidationResult {
  const valid = fn(value) as boolean;
  return { valid, errors: valid ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`) };
}

/** Validate a detail object against its detail type's schema. */
export function validateBanEventDetail(detailType: DetailType, detail: unknown): ValidationResult {
  return result(validatorFor(detailType, 'detail'), detail);
}

/**
 * Validate a whole EventBridge event as a consumer receives it (`detail-type`, `source`, `detail`, ...), e.g. the
 * body of an SQS message delivered by a rule.
 */
export function validateEventBridgeEvent(event: unknown): ValidationResult {
  const dt = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
  if (typeof dt !== 'string' || !(DETAIL_TYPES as readonly string[]).includes(dt)) {
    return { valid: false, errors: [`/detail-type must be one of ${DETAIL_TYPES.join(', ')}, got ${JSON.stringify(dt)}`] };
  }
  return result(validatorFor(dt as DetailType, 'envelope'), event);
}

/** Throw (message lists every violation) unless `event`'s detail matches its schema. */
export function assertValidBanEvent(event: BanEvent): void {
  const r = validateBanEventDetail(event.detailType, event.detail);
  if (!r.valid) throw new Error(`ban event ${event.eventId} (${event.detailType}) does not match its schema: ${r.errors.join('; ')}`);
}
