import { parseAny } from '../src/ingest';
import { BatchAggregator, windowToItem } from '../src/aggregate';
import { itemSizeBytes } from '../src/aggregate/size';
// eslint-disable-next-line
const sim = require('../sim');
const s = sim.simulate({ seed: 7, scale: 'small', variant: 'base' });
const b = new BatchAggregator();
let n = 0;
for (const ev of s.events()) {
  const p = parseAny(ev.log, { now: Number(ev.log.requestTimeEpoch) + 60000 });
  if (p.ok) (b as any).add(p);
  if (ev.usage) { const u = parseAny(ev.usage, { now: Number(ev.log.requestTimeEpoch) + 60000 }); if (u.ok) (b as any).add(u); }
  if (++n >= 30000) break;
}
const ws = b.windows();
const variants: Record<string, (it: any) => any> = {
  base: (it) => ({ ...it, 'wm:shardId-000000000000': { S: '056' + '4'.repeat(56) } }),
  ipB64: (it) => ({ ...variants.base(it), ...(it.ip ? { ip: { SS: it.ip.SS.map((x: string) => Buffer.from(x, 'hex').toString('base64url')) } } : {}) }),
  ipsn: (it) => { const o = variants.ipB64(it); if (o.sn) o.sn = { SS: o.sn.SS.map((x: string) => x.includes('.') ? 'xxxx' : x) }; return o; },
  wm: (it) => { const o = variants.ipsn(it); delete o['wm:shardId-000000000000']; o['wm:0'] = { S: 'x'.repeat(33) }; return o; },
  mm: (it) => { const o = variants.wm(it); for (const k of Object.keys(o)) if (k.startsWith('mm:')) { o['~' + k.slice(3)] = o[k]; delete o[k]; } return o; },
};
for (const [name, f] of Object.entries(variants)) {
  const sizes = ws.map((w) => itemSizeBytes(f(windowToItem(w, 30))));
  const wru = sizes.reduce((a, s) => a + Math.ceil(s / 1024), 0);
  console.log(name.padEnd(8), 'avg', (sizes.reduce((a, b) => a + b, 0) / sizes.length).toFixed(0), 'max', Math.max(...sizes), 'over1k', sizes.filter((s) => s > 1024).length, 'of', sizes.length, 'WRU', wru);
}
