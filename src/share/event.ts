/** The `Indicators Exported` event detail (schemas/indicators-exported.json): where a bundle went, never what it holds. */
import type { StixBundle } from './stix';

export const INDICATORS_EXPORTED = 'Indicators Exported';

export interface IndicatorsExportedDetail {
  schemaVersion: '1';
  partner: string;
  bucket: string;
  key: string;
  bundleId: string;
  keyId: string;
  campaigns: number;
  indicators: number;
  validUntil: string | null;
  exportedAt: string;
}

export function indicatorsExported(
  b: StixBundle,
  o: { partner: string; bucket: string; key: string; keyId: string; exportedAt: number },
): IndicatorsExportedDetail {
  const indicators = b.objects.filter((x) => x.type === 'indicator');
  const until = indicators
    .map((x) => String(x.valid_until ?? ''))
    .filter(Boolean)
    .sort();
  return {
    schemaVersion: '1',
    partner: o.partner,
    bucket: o.bucket,
    key: o.key,
    bundleId: b.id,
    keyId: o.keyId,
    campaigns: b.objects.filter((x) => x.type === 'infrastructure').length,
    indicators: indicators.length,
    validUntil: until.length ? until[until.length - 1] : null,
    exportedAt: new Date(o.exportedAt).toISOString(),
  };
}

/** S3 key of a partner's bundle: one prefix per partner, one object per export. */
export function bundleKey(partner: string, exportedAt: number): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(partner))
    throw new Error(`partner name must be lowercase letters, digits and '-', got ${JSON.stringify(partner)}`);
  return `partners/${partner}/${new Date(exportedAt).toISOString().replace(/[:.]/g, '-')}.json`;
}
