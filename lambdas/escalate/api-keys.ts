/**
 * API Gateway keys of an account, for suspension and reinstatement: which keys the account owns (disabled on
 * suspension), which keys merely appear in its traffic (kept as evidence, never disabled: a key can be shared),
 * and switching keys on and off. Everything is a no-op when the store does not manage API keys.
 */
import { GetApiKeyCommand, GetApiKeyCommandOutput, GetApiKeysCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { EscalationStore } from './store';

/** A key seen in a suspended account's traffic that the account does not own (kept as evidence, not disabled). */
export interface SeenKey {
  id: string;
  /** The key's `customerId`, or null when it names none. */
  owner: string | null;
  deleted?: boolean;
}

/** Traffic-seen keys whose owner is looked up when a suspension is applied. */
const MAX_SEEN_KEY_LOOKUPS = 20;

const notFound = (err: unknown) => (err as { name?: string }).name === 'NotFoundException';

/** A key, or undefined when it no longer exists. */
async function getKey(store: EscalationStore, id: string): Promise<GetApiKeyCommandOutput | undefined> {
  try {
    return await store.apigw.send(new GetApiKeyCommand({ apiKey: id, includeValue: false }));
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}

/**
 * The API keys the account OWNS: those whose `customerId` is the account, plus the ids recorded on the account
 * (`apiKeyIds`) unless the key names another customer. Keys merely seen in the account's traffic are not
 * included: a key can be shared, and disabling it would lock out every other account using it.
 */
export async function discoverKeys(store: EscalationStore, accountId: string, recorded: string[] = []): Promise<string[]> {
  if (!store.manageApiKeys) return [];
  const ids = new Set<string>();
  let position: string | undefined;
  do {
    const r = await store.apigw.send(new GetApiKeysCommand({ customerId: accountId, includeValues: false, limit: 500, position }));
    for (const k of r.items ?? []) if (k.id && k.customerId === accountId) ids.add(k.id);
    position = r.position;
  } while (position);
  for (const id of recorded.filter((k) => k && k !== '-' && !ids.has(k))) {
    const owner = await keyOwner(store, id);
    if (owner.exists && (owner.customerId === undefined || owner.customerId === accountId)) ids.add(id);
  }
  return [...ids].sort();
}

/** The `customerId` of a key (`exists: false` when it no longer exists). */
export async function keyOwner(store: EscalationStore, id: string): Promise<{ exists: boolean; customerId?: string }> {
  const k = await getKey(store, id);
  if (!k) return { exists: false };
  return { exists: true, ...(k.customerId ? { customerId: k.customerId } : {}) };
}

/**
 * Keys seen in the account's traffic that it does not own: kept as evidence (with their owner, when the key
 * names one), never disabled. At most `MAX_SEEN_KEY_LOOKUPS` are looked up; the rest are listed without owner.
 */
export async function seenKeysNotOwned(store: EscalationStore, seen: string[], owned: string[]): Promise<SeenKey[]> {
  if (!store.manageApiKeys) return [];
  const own = new Set(owned);
  const ids = [...new Set(seen.filter((k) => typeof k === 'string' && k && k !== '-' && !own.has(k)))].sort();
  const out: SeenKey[] = [];
  for (const [i, id] of ids.entries()) {
    if (i >= MAX_SEEN_KEY_LOOKUPS) {
      out.push({ id, owner: null });
      continue;
    }
    const o = await keyOwner(store, id);
    out.push({ id, owner: o.exists ? (o.customerId ?? null) : null, ...(o.exists ? {} : { deleted: true }) });
  }
  return out;
}

/** Keys among `ids` that are currently enabled (keys that no longer exist are skipped). */
export async function enabledKeys(store: EscalationStore, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) if ((await getKey(store, id))?.enabled) out.push(id);
  return out;
}

export async function setKeysEnabled(store: EscalationStore, ids: string[], enabled: boolean): Promise<void> {
  for (const id of ids) {
    try {
      await store.apigw.send(new UpdateApiKeyCommand({ apiKey: id, patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }] }));
    } catch (err) {
      if (notFound(err)) continue; // a deleted key is as good as disabled
      throw err;
    }
  }
}
