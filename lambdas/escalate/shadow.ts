/**
 * Shadow mode (`CONFIG` / `SHADOW`): globally or per signal, decisions are recorded but not enforced. Absent, the
 * construct's `shadowMode` / `shadowSignals` apply. Operators change it; every change is audited.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ShadowConfig } from '../../src/escalate/guardrails';
import { keys } from '../../src/shared/tables';
import { EscalationStore } from './store';

export async function getShadow(store: EscalationStore, defaults: ShadowConfig): Promise<ShadowConfig & { source: 'config' | 'default' }> {
  const r = await store.ddb.send(new GetCommand({ TableName: store.table, Key: keys.shadowConfig(), ConsistentRead: true }));
  if (!r.Item) return { ...defaults, source: 'default' };
  const signals = r.Item.signals instanceof Set ? [...r.Item.signals] : Array.isArray(r.Item.signals) ? r.Item.signals : [];
  return { global: r.Item.global === true, signals: signals.map(String), source: 'config' };
}

export async function setShadow(store: EscalationStore, cfg: ShadowConfig, actor: string, reason: string): Promise<void> {
  const now = store.now();
  const item = { ...keys.shadowConfig(), global: cfg.global, signals: cfg.signals, updatedBy: actor, updatedAt: new Date(now).toISOString(), reason };
  await store.transactAudited([{ Put: { TableName: store.table, Item: item } }], {
    caseId: keys.opsAuditCase(),
    accountId: '-',
    actor,
    action: 'shadow-changed',
    reason,
    details: { ...cfg },
  });
}
