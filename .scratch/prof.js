const fs = require('fs');
const [file, root, depth] = [process.argv[2], process.argv[3], Number(process.argv[4] || 2)];
const p = JSON.parse(fs.readFileSync(file));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
p.samples.forEach((id, i) => self.set(id, (self.get(id) || 0) + (p.timeDeltas[i] || 0)));
const incl = new Map();
function total(n) { if (incl.has(n.id)) return incl.get(n.id); let t = self.get(n.id) || 0; for (const c of n.children || []) t += total(byId.get(c)); incl.set(n.id, t); return t; }
let all = 0; for (const n of p.nodes) all += self.get(n.id) || 0;
const agg = new Map();
function walk(n, d, prefix) {
  const name = (n.callFrame.functionName || '(anon)') + ' ' + n.callFrame.url.split('/').slice(-2).join('/');
  const key = prefix + name;
  agg.set(key, (agg.get(key) || 0) + total(n));
  if (d < depth) for (const c of n.children || []) walk(byId.get(c), d + 1, key + ' > ');
}
for (const n of p.nodes) if (n.callFrame.functionName === root) walk(n, 0, '');
const rows = [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
for (const [k, t] of rows) console.log((t / 1000).toFixed(0).padStart(7) + ' ms ' + ((t / all) * 100).toFixed(1).padStart(5) + '%  ' + k);
