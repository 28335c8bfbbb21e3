/** The API keys: creation with AWS's checks (value length, unique value), lookup, and the `replace` patches. */
import { randomBytes } from 'crypto';
import { AwsServiceError } from '../aws-http';
import { ApiKeyRecord } from './types';

const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A 10-character lowercase id, as API Gateway gives keys and plans. */
export function newId(): string {
  const b = randomBytes(10);
  return Array.from(b, (x) => ID_CHARS[x % ID_CHARS.length]).join('');
}

/** A key as the API returns it: its value only when asked for. */
export function renderKey(k: ApiKeyRecord, includeValue: boolean): Omit<ApiKeyRecord, 'value'> & { value?: string } {
  const { value, ...rest } = k;
  return includeValue ? { ...rest, value } : rest;
}

function applyPatch(k: ApiKeyRecord, op: { op?: string; path?: string; value?: string }): void {
  if (op.op !== 'replace')
    throw new AwsServiceError(
      'BadRequestException',
      `Invalid patch operation specified. Must be 'replace' for an api key, got ${JSON.stringify(op.op)}`,
    );
  switch (op.path) {
    case '/enabled':
      if (op.value !== 'true' && op.value !== 'false')
        throw new AwsServiceError('BadRequestException', `Invalid value for /enabled: ${JSON.stringify(op.value)} (expected "true" or "false")`);
      k.enabled = op.value === 'true';
      break;
    case '/name':
      k.name = String(op.value ?? '');
      break;
    case '/description':
      k.description = op.value;
      break;
    case '/customerId':
      k.customerId = op.value;
      break;
    default:
      throw new AwsServiceError('BadRequestException', `Invalid patch path ${JSON.stringify(op.path)}`);
  }
}

export class ApiKeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();

  all(): ApiKeyRecord[] {
    return [...this.keys.values()];
  }

  find(id: string): ApiKeyRecord | undefined {
    return this.keys.get(id);
  }

  /** The key, or NotFoundException. */
  get(id: string): ApiKeyRecord {
    const k = this.keys.get(id);
    if (!k) throw new AwsServiceError('NotFoundException', 'Invalid API Key identifier specified', 404);
    return k;
  }

  create(input: Record<string, unknown>): ApiKeyRecord {
    const name = input.name;
    if (name !== undefined && typeof name !== 'string')
      throw new AwsServiceError('BadRequestException', `name must be a string, got ${JSON.stringify(name)}`);
    const value = input.value === undefined ? randomBytes(30).toString('base64url').slice(0, 40) : input.value;
    if (typeof value !== 'string' || value.length < 20)
      throw new AwsServiceError('BadRequestException', `API Key value should be at least 20 characters, got ${JSON.stringify(String(value).length)}`);
    if (this.all().some((k) => k.value === value)) throw new AwsServiceError('ConflictException', 'API Key value already exists', 409);
    const now = Math.floor(Date.now() / 1000);
    const k: ApiKeyRecord = {
      id: newId(),
      value,
      name: (name as string | undefined) ?? '',
      ...(typeof input.customerId === 'string' ? { customerId: input.customerId } : {}),
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      enabled: input.enabled === true,
      createdDate: now,
      lastUpdatedDate: now,
      stageKeys: Array.isArray(input.stageKeys)
        ? (input.stageKeys as Array<{ restApiId: string; stageName: string }>).map((s) => `${s.restApiId}/${s.stageName}`)
        : [],
      tags: (input.tags as Record<string, string>) ?? {},
    };
    this.keys.set(k.id, k);
    return k;
  }

  /** UpdateApiKey: `replace` operations on /enabled, /name, /description, /customerId. */
  update(k: ApiKeyRecord, ops: unknown): void {
    if (!Array.isArray(ops)) throw new AwsServiceError('BadRequestException', `patchOperations must be a list, got ${JSON.stringify(ops)}`);
    for (const raw of ops) applyPatch(k, raw as { op?: string; path?: string; value?: string });
    k.lastUpdatedDate = Math.floor(Date.now() / 1000);
  }

  delete(id: string): void {
    this.keys.delete(id);
  }
}
