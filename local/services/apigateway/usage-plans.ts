/**
 * The usage plans and the keys on them. As in AWS a key belongs to at most one plan (the local plans all stand
 * for one stage); a `local:id` tag sets a plan's id.
 */
import { AwsServiceError } from '../aws-http';
import { newId } from './api-keys';
import { ApiKeyRecord, UsagePlanRecord, UsagePlanView } from './types';

/** A plan as the API returns it (no key ids; tags only when there are some). */
export function renderPlan(p: UsagePlanRecord): Omit<UsagePlanRecord, 'keys' | 'tags'> & { tags?: Record<string, string> } {
  const { keys: _keys, tags, ...rest } = p;
  return { ...rest, ...(Object.keys(tags).length ? { tags } : {}) };
}

/** A key on a plan, as GetUsagePlanKey(s) return it. */
export const planKeyView = (k: ApiKeyRecord) => ({ id: k.id, type: 'API_KEY', name: k.name, value: k.value });

const view = (p: UsagePlanRecord): UsagePlanView => ({ ...p, keys: [...p.keys].sort() });

export class UsagePlanStore {
  private readonly plans = new Map<string, UsagePlanRecord>();

  all(): UsagePlanRecord[] {
    return [...this.plans.values()];
  }

  views(): UsagePlanView[] {
    return this.all().map(view);
  }

  /** The plan a key is on, if any. */
  planOfKey(keyId: string): UsagePlanView | undefined {
    const p = this.all().find((x) => x.keys.has(keyId));
    return p ? view(p) : undefined;
  }

  /** The plan, or NotFoundException. */
  get(id: string): UsagePlanRecord {
    const p = this.plans.get(id);
    if (!p) throw new AwsServiceError('NotFoundException', `Invalid Usage Plan ID specified, got ${JSON.stringify(id)}`, 404);
    return p;
  }

  create(input: Record<string, unknown>): UsagePlanRecord {
    if (typeof input.name !== 'string' || !input.name)
      throw new AwsServiceError('BadRequestException', `name must be a non-empty string, got ${JSON.stringify(input.name)}`);
    const tags = (input.tags as Record<string, string> | undefined) ?? {};
    const id = tags['local:id'] ?? newId();
    if (this.plans.has(id)) throw new AwsServiceError('ConflictException', `usage plan ${id} already exists`, 409);
    const p: UsagePlanRecord = {
      id,
      name: input.name,
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      ...(input.throttle && typeof input.throttle === 'object' ? { throttle: input.throttle as UsagePlanRecord['throttle'] } : {}),
      ...(input.quota && typeof input.quota === 'object' ? { quota: input.quota as Record<string, unknown> } : {}),
      apiStages: Array.isArray(input.apiStages) ? input.apiStages : [],
      tags,
      keys: new Set(),
    };
    this.plans.set(id, p);
    return p;
  }

  delete(id: string): void {
    this.get(id);
    this.plans.delete(id);
  }

  /** CreateUsagePlanKey: ConflictException when the key is on this or another plan already. */
  addKey(p: UsagePlanRecord, k: ApiKeyRecord): void {
    if (p.keys.has(k.id))
      throw new AwsServiceError(
        'ConflictException',
        `Usage Plan ${p.id} cannot be added because API Key ${k.id} already exists in this usage plan`,
        409,
      );
    const other = this.all().find((x) => x.keys.has(k.id));
    if (other) throw new AwsServiceError('ConflictException', `API Key ${k.id} is already on usage plan ${other.id} for the same stage`, 409);
    p.keys.add(k.id);
  }

  /** The key id, or NotFoundException when it is not on the plan. */
  requireKey(p: UsagePlanRecord, keyId: string): string {
    if (!p.keys.has(keyId))
      throw new AwsServiceError(
        'NotFoundException',
        `Invalid API Key identifier specified, ${JSON.stringify(keyId)} is not on usage plan ${p.id}`,
        404,
      );
    return keyId;
  }

  /** Take a deleted key off every plan. */
  forgetKey(keyId: string): void {
    for (const p of this.plans.values()) p.keys.delete(keyId);
  }
}
