const fs = require('fs');
const p = JSON.parse(fs.readFileSync(process.argv[2]));
const self = new Map();
p.samples.forEach((id, i) => self.set(id, (self.get(id) || 0) + (p.timeDeltas[i] || 0)));
const by = new Map(); let all = 0;
for (const n of p.nodes) { const t = self.get(n.id) || 0; all += t; const k = (n.callFrame.functionName || '(anon)') + ' ' + n.callFrame.url.split('/').slice(-3).join('/'); by.set(k, (by.get(k) || 0) + t); }
console.log('total', (all/1e6).toFixed(1), 's');
for (const [k, t] of [...by].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] || 25))) console.log(((t / all) * 100).toFixed(1).padStart(5) + '% ' + (t/1000).toFixed(0).padStart(6) + ' ms  ' + k);
