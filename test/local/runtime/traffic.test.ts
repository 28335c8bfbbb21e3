import { gunzipSync } from 'zlib';
import { decodeRecord } from '../../../src/ingest';
import { cloudWatchEnvelope } from '../../../local/runtime/traffic';

const meta = { owner: '000000000000', logGroup: 'access-logs', logStream: 's-1', subscriptionFilters: ['to-stream'] };

describe('CloudWatch Logs envelopes', () => {
  it('packs several log events as a gzip DATA_MESSAGE the ingest decoder reads', () => {
    const events = [1, 2, 3].map((i) => ({
      id: String(i).padStart(56, '0'),
      timestamp: 1_795_000_000_000 + i,
      message: JSON.stringify({ requestId: `r${i}` }),
    }));
    const data = cloudWatchEnvelope(meta, events);
    const raw = JSON.parse(gunzipSync(data).toString('utf8'));
    expect(raw).toMatchObject({
      messageType: 'DATA_MESSAGE',
      owner: '000000000000',
      logGroup: 'access-logs',
      logStream: 's-1',
      subscriptionFilters: ['to-stream'],
    });
    expect(raw.logEvents).toHaveLength(3);
    const decoded = decodeRecord(data.toString('base64'));
    expect(decoded).toMatchObject({ ok: true, kind: 'logs', logGroup: 'access-logs' });
    expect(decoded.ok && decoded.kind === 'logs' ? decoded.entries.length : 0).toBe(3);
  });

  it('makes a CONTROL_MESSAGE the decoder recognises', () => {
    const data = cloudWatchEnvelope(meta, [{ id: '', timestamp: 0, message: 'CWL CONTROL MESSAGE' }], 'CONTROL_MESSAGE');
    expect(decodeRecord(data.toString('base64'))).toEqual({ ok: true, kind: 'control' });
  });
});
