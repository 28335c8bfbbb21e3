// distill-guard review console (vanilla JS, no dependencies). All data is rendered with textContent / SVG text
// nodes, never innerHTML: account data (user agents, reasons) is untrusted.
'use strict';
/* global renderAudit, renderSignals, renderControls, allowlistControls -- defined in ops.js */

const SVGNS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#4ea1ff', '#e0a530', '#3fb47a', '#e5534b', '#a371f7', '#39c5cf', '#d2a8ff', '#f78166', '#8b949e'];
const state = {
  token: null,
  tab: 'queue',
  selected: null,
  session: null,
  queue: null,
  rows: [],
  armed: null,
  decide: null,
  filters: { sort: 'age', reason: '', decision: '', cluster: '', find: '', state: '' },
};

function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') n.className = v;
    else if (k === 'style')
      n.style.cssText = v; // CSSOM: allowed under the strict CSP (style attributes are not)
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return n;
}
function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'style') n.style.cssText = v;
    else n.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return n;
}
const some = (...xs) => xs.flat().filter((x) => x !== null && x !== undefined && x !== false);
function dur(ms) {
  const neg = ms < 0;
  const s = Math.abs(ms) / 1000;
  let out;
  if (s < 60) out = `${Math.round(s)}s`;
  else if (s < 3600) out = `${Math.round(s / 60)}m`;
  else if (s < 172800) out = `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  else out = `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
  return neg ? `-${out}` : out;
}
function toast(msg, err) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = `toast${err ? ' err' : ''}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.add('hidden'), 6000);
}

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? 'POST' : 'GET',
    headers: Object.assign({ 'X-Console-Token': state.token }, body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'omit',
    cache: 'no-store',
  });
  const data = await res.json().catch(() => ({ error: `http ${res.status}` }));
  if (res.status === 401) {
    sessionStorage.removeItem('dg-token');
    showLogin();
  }
  if (!res.ok) throw new Error(data.error || `http ${res.status}`);
  return data;
}

// ---------------------------------------------------------------- header

function renderStatus() {
  const s = state.session;
  const box = document.getElementById('status');
  box.replaceChildren();
  if (!s) return;
  box.append(
    ...some(
      s.breaker.tripped
        ? el('span', { class: 'badge bad', title: s.breaker.trippedReason || '' }, 'breaker TRIPPED')
        : el('span', { class: 'badge ok' }, 'breaker armed'),
      s.shadow.global
        ? el('span', { class: 'badge shadow' }, 'SHADOW MODE')
        : s.shadow.signals.length
          ? el('span', { class: 'badge shadow' }, `shadow: ${s.shadow.signals.join(', ')}`)
          : null,
      el('span', { class: 'badge muted' }, s.local ? 'local' : s.region),
      el('span', { id: 'whoami' }, s.identity),
    ),
  );
}

// ---------------------------------------------------------------- lists

function deadlineBar(c) {
  const f = c.deadlineFraction === undefined ? 0 : Math.min(1, c.deadlineFraction);
  const color = f > 0.85 ? 'var(--bad)' : f > 0.5 ? 'var(--warn)' : 'var(--ok)';
  return el(
    'div',
    { class: 'bar', title: `${Math.round(f * 100)}% of the review window used` },
    el('div', { style: `width:${Math.max(2, f * 100)}%;background:${color}` }),
  );
}

function qs(obj) {
  return Object.entries(obj)
    .filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

function claimBadge(c, me) {
  if (!c.claim) return null;
  return c.claim.by === me
    ? el('span', { class: 'badge ok claim' }, 'claimed by you')
    : el('span', { class: 'badge warn claim', title: `until ${c.claim.until}` }, `taken by ${c.claim.by}`);
}

function renderToolbar(q) {
  const bar = document.getElementById('toolbar');
  const f = state.filters;
  if (!bar.firstChild) {
    const find = el('input', { id: 'find', type: 'search', placeholder: 'Find account or case id  ( / )', autocomplete: 'off', value: f.find });
    let timer;
    find.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        f.find = find.value.trim();
        renderQueue();
      }, 250);
    });
    const select = (id, label, options) => {
      const s = el(
        'select',
        { id, title: label },
        options.map(([v, t]) => el('option', { value: v }, t)),
      );
      s.value = f[id.replace('filter-', '')] || options[0][0];
      s.addEventListener('change', () => {
        f[id.replace('filter-', '')] = s.value;
        renderQueue();
        s.blur();
      });
      return s;
    };
    bar.append(
      find,
      el(
        'div',
        { class: 'filters' },
        select('filter-sort', 'sort', [
          ['age', 'oldest first'],
          ['score', 'highest score'],
          ['deadline', 'deadline soonest'],
          ['cluster', 'largest cluster'],
        ]),
        select('filter-reason', 'reason', [['', 'any reason']]),
        select('filter-decision', 'scorer decision', [
          ['', 'any decision'],
          ['review', 'scorer: review'],
          ['suspend', 'scorer: suspend'],
        ]),
        select('filter-cluster', 'cluster', [['', 'any cluster']]),
        select('filter-state', 'state', [
          ['', 'review + overdue'],
          ['review', 'review only'],
          ['overdue', 'overdue only'],
        ]),
      ),
      el(
        'div',
        { id: 'shortcuts', class: 'hint shortcuts' },
        'Keys: ',
        ...[
          ['j', 'next'],
          ['k', 'previous'],
          ['a', 'approve'],
          ['r', 'reject'],
          ['c', 'claim'],
          ['/', 'find'],
          ['Enter', 'confirm'],
          ['Esc', 'cancel'],
        ].flatMap(([k, t]) => [el('kbd', {}, k), ` ${t} `]),
      ),
    );
  }
  // Reason and cluster choices come from what is in the queue (keeping the current choice).
  const all = q.review.concat(q.overdue);
  const refill = (id, key, values, anyLabel) => {
    const s = document.getElementById(id);
    const want = [''].concat([...new Set(values)].sort());
    if (f[key] && !want.includes(f[key])) want.push(f[key]);
    if (s.options.length === want.length && [...s.options].every((o, i) => o.value === want[i])) return;
    s.replaceChildren(...want.map((v) => el('option', { value: v }, v || anyLabel)));
    s.value = f[key] || '';
  };
  refill('filter-reason', 'reason', all.flatMap((c) => c.reasons).concat(state.knownReasons || []), 'any reason');
  refill('filter-cluster', 'cluster', all.map((c) => c.clusterId).filter(Boolean), 'any cluster');
  state.knownReasons = [...new Set((state.knownReasons || []).concat(all.flatMap((c) => c.reasons)))];
}

// One row of a list: the account (or case) id and its badges on the top line, one line per meta text, then `after`
// (the deadline bar of a queue row).
function listRow(attrs, [id, ...badges], metas, ...after) {
  return el(
    'div',
    attrs,
    el('div', { class: 'top' }, el('span', { class: 'acct' }, id), badges),
    metas.map((m) => el('div', { class: 'meta' }, m)),
    after,
  );
}

async function renderQueue() {
  const list = document.getElementById('list');
  const f = state.filters;
  const q = await api(`/api/queue?${qs({ sort: f.sort, reason: f.reason, decision: f.decision, cluster: f.cluster, find: f.find })}`);
  state.queue = q;
  renderToolbar(q);
  const showReview = f.state !== 'overdue',
    showOverdue = f.state !== 'review';
  const rows = (items, overdue) =>
    items.map((c) =>
      listRow(
        {
          class: `row${state.selected === c.caseId ? ' selected' : ''}`,
          'data-case': c.caseId,
          onclick: () => selectCase(c.caseId),
        },
        [c.accountId, claimBadge(c, q.me), el('span', { class: 'score' }, c.score.toFixed(2))],
        [
          `${c.caseId} · scorer: ${c.decision}${c.shadow ? ' · shadow' : ''}${c.clusterId ? ` · cluster ${c.clusterId} (${c.clusterSize})` : ''}`,
          c.reasons.join(', '),
          overdue
            ? `overdue · opened ${dur(c.ageMs)} ago`
            : `age ${dur(c.ageMs)} · deadline in ${c.remainingMs === undefined ? '?' : dur(c.remainingMs)}`,
        ],
        overdue ? null : deadlineBar(c),
      ),
    );
  const sortLabel = { age: 'oldest first', score: 'highest score first', deadline: 'deadline soonest first', cluster: 'largest cluster first' }[
    f.sort
  ];
  state.rows = (showReview ? q.review : []).concat(showOverdue ? q.overdue : []).map((c) => c.caseId);
  list.replaceChildren(
    ...some(
      showReview ? el('h2', {}, `Review queue (${q.review.length}) · ${sortLabel}`) : null,
      ...(showReview ? (q.review.length ? rows(q.review, false) : [el('div', { class: 'empty' }, 'Nothing waiting for review.')]) : []),
      showOverdue && q.overdue.length ? el('h2', { style: 'margin-top:18px' }, `Overdue (${q.overdue.length}) · no suspension applied`) : null,
      ...(showOverdue ? rows(q.overdue, true) : []),
    ),
  );
}

async function renderSuspended() {
  const list = document.getElementById('list');
  const s = await api('/api/suspended');
  list.replaceChildren(
    el('h2', {}, `Suspended accounts (${s.length})`),
    ...(s.length
      ? s.map((a) =>
          listRow(
            { class: 'row', onclick: () => a.lastCaseId && selectCase(a.lastCaseId) },
            [a.accountId, el('span', { class: 'badge bad' }, `offence ${a.offences}`)],
            [
              `until ${a.suspendedUntil ? new Date(a.suspendedUntil).toISOString().replace('.000Z', 'Z') : '-'} · by ${a.suspendedBy || '?'}`,
              `case ${a.lastCaseId || '-'}`,
            ],
          ),
        )
      : [el('div', { class: 'empty' }, 'No suspended accounts.')]),
  );
}

async function renderRecent() {
  const list = document.getElementById('list');
  const r = await api('/api/recent');
  list.replaceChildren(
    el('h2', {}, 'Recent decisions'),
    ...r.map((c) =>
      listRow(
        { class: 'row', onclick: () => selectCase(c.caseId) },
        [c.accountId, outcomeBadge(c)],
        [`${c.caseId} · ${c.decidedBy || 'auto'} · ${c.decidedAt || c.updatedAt}`],
      ),
    ),
  );
}

async function renderAllowlist() {
  const list = document.getElementById('list');
  const a = await api('/api/allowlist');
  list.replaceChildren(
    el('h2', {}, `Allowlist (${a.length})`),
    ...(a.length
      ? a.map((e) =>
          el(
            'div',
            { class: 'row' },
            el('div', { class: 'top' }, el('span', { class: 'acct' }, e.accountId), el('span', { class: 'badge ok' }, e.owner)),
            el('div', { class: 'meta' }, `until ${new Date(e.expiresAt * 1000).toISOString()}`),
            el('div', { class: 'meta' }, e.reason),
          ),
        )
      : [el('div', { class: 'empty' }, 'Empty.')]),
  );
  document.getElementById('detail').replaceChildren(...allowlistControls(a));
}

function outcomeBadge(c) {
  const o = c.outcome || c.state;
  const cls = o === 'suspended' ? 'bad' : o === 'review' ? 'warn' : o === 'shadow' ? 'shadow' : o === 'overdue' || o === 'error' ? 'warn' : 'ok';
  return el('span', { class: `badge ${cls}` }, o);
}

// ---------------------------------------------------------------- charts

function barChart(points, opts) {
  const W = opts.width || 520,
    H = 150,
    P = { l: 34, r: 8, t: 8, b: 22 };
  const n = Math.max(1, points.length);
  const bw = (W - P.l - P.r) / n;
  const max = Math.max(1, ...points.map((p) => p.total));
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': opts.label });
  for (let i = 0; i <= 4; i++) {
    const y = P.t + (H - P.t - P.b) * (1 - i / 4);
    g.append(
      svg('line', { x1: P.l, x2: W - P.r, y1: y, y2: y, stroke: '#2b3540', 'stroke-width': 1 }),
      svg('text', { x: P.l - 4, y: y + 3, 'text-anchor': 'end' }, Math.round((max * i) / 4)),
    );
  }
  points.forEach((p, i) => {
    let y = H - P.b;
    for (const [k, v] of p.parts) {
      const h = ((H - P.t - P.b) * v) / max;
      y -= h;
      g.append(
        svg(
          'rect',
          { x: P.l + i * bw + 1, y, width: Math.max(1, bw - 2), height: Math.max(0, h), fill: opts.color(k), rx: 1 },
          svg('title', {}, `${p.label}: ${k} ${v}`),
        ),
      );
    }
    if (n <= 12 || i % Math.ceil(n / 8) === 0) g.append(svg('text', { x: P.l + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle' }, p.label));
  });
  return g;
}

function hourLabel(t) {
  const d = new Date(t);
  return `${String(d.getUTCHours()).padStart(2, '0')}h`;
}

function colorMap(keys) {
  const m = {};
  keys.forEach((k, i) => {
    m[k] = PALETTE[i % PALETTE.length];
  });
  return (k) => m[k] || '#8b949e';
}

function legend(keys, color) {
  return el(
    'div',
    { class: 'legend' },
    keys.map((k) => el('span', {}, el('i', { style: `background:${color(k)}` }), k)),
  );
}

function activityChart(ev) {
  const pts = ev.timeline.map((p) => ({
    label: hourLabel(p.t),
    total: p.n,
    parts: [
      ['ok', p.n - p.errors],
      ['errors', p.errors],
    ],
  }));
  const color = (k) => (k === 'errors' ? '#e5534b' : '#4ea1ff');
  return el(
    'div',
    { class: 'card wide', id: 'chart-activity' },
    el('h3', {}, 'Activity timeline · requests per hour (UTC)'),
    barChart(pts, { color, label: 'activity timeline', width: 1040 }),
    legend(['ok', 'errors'], color),
  );
}

function modelMixChart(ev) {
  const models = Object.entries(ev.totals.models)
    .sort((a, b) => b[1] - a[1])
    .map(([m]) => m);
  const color = colorMap(models);
  const pts = ev.timeline.map((p) => ({
    label: hourLabel(p.t),
    total: Object.values(p.models).reduce((a, b) => a + b, 0),
    parts: models.map((m) => [m, p.models[m] || 0]),
  }));
  return el(
    'div',
    { class: 'card', id: 'chart-models' },
    el('h3', {}, 'Model mix over time'),
    barChart(pts, { color, label: 'model mix over time' }),
    legend(models, color),
  );
}

function promptMixChart(ev) {
  const entries = Object.entries(ev.totals.promptClasses).sort((a, b) => b[1] - a[1]);
  const card = el('div', { class: 'card', id: 'chart-prompts' }, el('h3', {}, 'Prompt-class mix'));
  if (!entries.length) {
    card.append(el('div', { class: 'hint' }, 'No usage events from the serving tier for this account.'));
    return card;
  }
  const total = entries.reduce((a, [, v]) => a + v, 0);
  const W = 520,
    row = 22;
  const g = svg('svg', { viewBox: `0 0 ${W} ${entries.length * row + 4}`, width: '100%', role: 'img', 'aria-label': 'prompt-class mix' });
  const color = colorMap(entries.map(([k]) => k));
  entries.forEach(([k, v], i) => {
    const w = ((W - 190) * v) / entries[0][1];
    g.append(
      svg('text', { x: 0, y: i * row + 15 }, k),
      svg('rect', { x: 120, y: i * row + 4, width: Math.max(1, w), height: 14, fill: color(k), rx: 2 }),
      svg('text', { x: 126 + w, y: i * row + 15 }, `${Math.round((100 * v) / total)}%`),
    );
  });
  card.append(g);
  return card;
}

function clusterGraph(c) {
  const ev = c.evidence;
  const members = ev.cluster || [];
  const card = el('div', { class: 'card wide', id: 'chart-cluster' }, el('h3', {}, `Cluster ${c.clusterId || '-'} · members and what links them`));
  if (!members.length) {
    card.append(el('div', { class: 'hint' }, 'No related accounts in this case.'));
    return card;
  }
  const W = 1000,
    H = Math.max(160, 50 + members.length * 16),
    cx = 300,
    cy = H / 2;
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'cluster members' });
  members.forEach((m, i) => {
    const y = members.length === 1 ? cy : 30 + (i * (H - 60)) / (members.length - 1);
    const x = 560;
    const linked = m.links.length > 0;
    g.append(
      svg('line', {
        x1: cx,
        y1: cy,
        x2: x,
        y2: y,
        stroke: linked ? '#4ea1ff' : '#2b3540',
        'stroke-width': linked ? Math.min(4, 1 + m.links.length) : 1,
        'stroke-dasharray': linked ? '' : '4 4',
      }),
      svg('circle', { cx: x, cy: y, r: 7, fill: m.status === 'suspended' ? '#e5534b' : '#3fb47a' }),
      svg('text', { x: x + 12, y: y + 4, class: 'strong' }, m.accountId),
      svg('text', { x: x + 110, y: y + 4 }, linked ? `${m.links.length} link${m.links.length > 1 ? 's' : ''}` : 'no direct link'),
    );
  });
  g.append(
    svg('circle', { cx, cy, r: 11, fill: '#e0a530' }),
    svg('text', { x: cx - 16, y: cy + 4, 'text-anchor': 'end', class: 'strong big' }, c.accountId),
  );
  card.append(
    g,
    el(
      'table',
      { class: 'links' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Member'), el('th', {}, 'Status'), el('th', {}, 'What links it to this account'))),
      el(
        'tbody',
        {},
        members.map((m) =>
          el(
            'tr',
            {},
            el('td', { class: 'mono' }, m.accountId),
            el('td', {}, m.status || '?'),
            el('td', {}, m.links.join(' · ') || 'no direct link in the features'),
          ),
        ),
      ),
    ),
  );
  return card;
}

// ---------------------------------------------------------------- case detail

// Selects the list row whose `attr` is `id` and loads `path` into the detail pane: the pane and the response, or
// null when the request failed (the pane then shows why).
async function loadDetail(attr, id, path) {
  state.selected = id;
  document.querySelectorAll('.row').forEach((r) => r.classList.toggle('selected', r.getAttribute(attr) === id));
  const d = document.getElementById('detail');
  d.replaceChildren(el('div', { class: 'empty' }, 'Loading…'));
  try {
    return { d, data: await api(path) };
  } catch (e) {
    d.replaceChildren(el('div', { class: 'empty' }, e.message));
    return null;
  }
}

// One audit entry as a table row: when, who, what, then `cells` (the columns a view adds), then why.
function auditRow(a, ...cells) {
  return el(
    'tr',
    {},
    el('td', { class: 'mono' }, a.at),
    el('td', { class: 'mono' }, a.actor),
    el('td', {}, a.action),
    cells,
    el('td', {}, a.reason || ''),
  );
}

async function selectCase(caseId) {
  const loaded = await loadDetail('data-case', caseId, `/api/cases/${encodeURIComponent(caseId)}`);
  if (!loaded) return;
  const { d, data: r } = loaded;
  const c = r.case;
  const ev = c.evidence;
  const acct = r.account || {};
  const now = Date.now();
  d.replaceChildren(
    ...some(
      el(
        'div',
        { class: 'title' },
        el('h1', { id: 'case-title' }, c.accountId),
        outcomeBadge(c),
        c.shadow ? el('span', { class: 'badge shadow' }, 'shadow') : null,
        el('span', { class: 'hint mono' }, c.caseId),
      ),
      el(
        'div',
        { class: 'kv' },
        el('div', {}, 'Scorer decision'),
        el('div', {}, `${c.decision} · score ${c.score.toFixed(3)}`),
        el('div', {}, 'Flagged'),
        el('div', {}, new Date(c.flaggedAt).toISOString()),
        el('div', {}, 'Case opened'),
        el('div', {}, `${c.createdAt} (${dur(now - Date.parse(c.createdAt))} ago)`),
        c.reviewDeadline ? el('div', {}, 'Review deadline') : null,
        c.reviewDeadline
          ? el('div', {}, `${c.reviewDeadline} (${Date.parse(c.reviewDeadline) > now ? `in ${dur(Date.parse(c.reviewDeadline) - now)}` : 'passed'})`)
          : null,
        el('div', {}, 'Routing'),
        el('div', {}, (c.routeReasons || []).join('; ') || '-'),
        el('div', {}, 'Account status'),
        el(
          'div',
          { id: 'account-status' },
          `${acct.status || 'unknown'}${acct.suspendedUntil ? ` until ${new Date(acct.suspendedUntil).toISOString()}` : ''} · offences ${acct.offences || 0}`,
        ),
        el('div', {}, 'Account created'),
        el('div', {}, ev.accountCreatedAt ? new Date(ev.accountCreatedAt).toISOString() : 'unknown'),
      ),
      decisionPanel(c, acct),
      el(
        'div',
        { class: 'card', style: 'margin-bottom:14px' },
        el('h3', {}, 'Why it was flagged'),
        el(
          'ul',
          { class: 'reasons' },
          (c.reasonDetails && c.reasonDetails.length ? c.reasonDetails : c.reasons.map((s) => ({ signal: s }))).map((x) =>
            el(
              'li',
              {},
              el('span', { class: 'sig' }, x.signal),
              x.text ? ` ${x.text}` : '',
              x.value !== undefined
                ? el('span', { class: 'hint' }, ` (value ${x.value}${x.baseline !== undefined ? `, baseline ${x.baseline}` : ''})`)
                : '',
            ),
          ),
        ),
      ),
      el(
        'div',
        { class: 'grid' },
        activityChart(ev),
        modelMixChart(ev),
        promptMixChart(ev),
        clusterGraph(c),
        el(
          'div',
          { class: 'card wide' },
          el('h3', {}, 'Network and keys'),
          el(
            'div',
            { class: 'kv', style: 'margin:0' },
            el('div', {}, 'Requests'),
            el('div', {}, `${ev.totals.requests} (${ev.totals.errors} errors) · tokens in ${ev.totals.inputTokens} / out ${ev.totals.outputTokens}`),
            el('div', {}, 'Source IPs'),
            el('div', {}, `${ev.ips} distinct (hashed)`),
            el('div', {}, 'Subnets'),
            el('div', { class: 'mono' }, ev.subnets.join(', ') || '-'),
            el('div', {}, 'User agents'),
            el('div', { class: 'mono' }, ev.userAgents.join(' | ') || '-'),
            el('div', {}, 'API keys'),
            el('div', { class: 'mono' }, ev.apiKeys.join(', ') || '-'),
            el('div', {}, 'Prompt templates'),
            el('div', { class: 'mono' }, `${ev.templates.length}${ev.templates.length ? `: ${ev.templates.slice(0, 6).join(', ')}` : ''}`),
          ),
        ),
      ),
      el(
        'div',
        { class: 'card', id: 'audit' },
        el('h3', {}, 'Audit trail'),
        el(
          'table',
          {},
          el('thead', {}, el('tr', {}, el('th', {}, 'When (UTC)'), el('th', {}, 'Who'), el('th', {}, 'What'), el('th', {}, 'Why'))),
          el(
            'tbody',
            {},
            r.audit.map((a) => auditRow(a)),
          ),
        ),
      ),
    ),
  );
}

function decisionPanel(c, acct) {
  state.decide = null;
  state.armed = null;
  if (c.state === 'review') {
    const reason = el('textarea', {
      id: 'reason',
      placeholder: 'Reason (required, recorded in the audit trail and the ban event). Keys: a / r, then Enter',
    });
    const approve = el('button', { class: 'act approve', id: 'approve', disabled: true }, 'Approve · suspend account');
    const reject = el('button', { class: 'act reject', id: 'reject', disabled: true }, 'Reject · no action');
    const restrict = el('button', { class: 'act', id: 'restrict', disabled: true }, 'Restrict · throttle + step-up');
    const armed = el('div', { id: 'armed', class: 'hint armed hidden' });
    const sync = () => {
      const ok = reason.value.trim().length >= 3;
      approve.disabled = !ok;
      reject.disabled = !ok;
      restrict.disabled = !ok;
    };
    reason.addEventListener('input', sync);
    const act = async (verb) => {
      if (reason.value.trim().length < 3) {
        toast('A reason is required (at least 3 characters).', true);
        return;
      }
      approve.disabled = reject.disabled = restrict.disabled = true;
      try {
        await api(`/api/cases/${encodeURIComponent(c.caseId)}/claim`, {});
        const r = await api(`/api/cases/${encodeURIComponent(c.caseId)}/${verb}`, { reason: reason.value });
        toast(
          `${{ approve: 'Approved', reject: 'Rejected', restrict: 'Restricted' }[verb]} ${c.caseId} as ${r.reviewer}. The workflow is applying it.`,
        );
        await api(`/api/cases/${encodeURIComponent(c.caseId)}/release`, {}).catch(() => null);
        followDecision(c.caseId);
        await goNext(c.caseId);
      } catch (e) {
        toast(e.message, true);
        sync();
      }
    };
    state.decide = act;
    approve.addEventListener('click', () => act('approve'));
    reject.addEventListener('click', () => act('reject'));
    restrict.addEventListener('click', () => act('restrict'));
    return decisionBox(
      'Decision',
      [reason, armed],
      [approve, restrict, reject],
      'Approving suspends the account and disables its API keys; duration escalates with repeat offences.',
    );
  }
  if (c.state === 'overdue') {
    return oneStepDecision(
      'Overdue: nothing was applied',
      'Reason for re-opening (required)',
      { class: 'act reject', id: 'reopen' },
      'Re-open as a new case',
      'Starts a new case with the same reasons and cluster; it goes to the review queue.',
      async (reason) => {
        const r = await api(`/api/cases/${encodeURIComponent(c.caseId)}/reopen`, { reason });
        toast(`Re-opened ${c.caseId} as ${r.caseId}.`);
        refresh();
      },
    );
  }
  if (acct.status === 'suspended') {
    return oneStepDecision(
      `Suspended until ${acct.suspendedUntil ? new Date(acct.suspendedUntil).toISOString() : '?'}`,
      'Reason for lifting the suspension (required)',
      { class: 'act reinstate', id: 'reinstate' },
      'Reinstate account',
      'Re-enables the API keys, restores the status and publishes Account Reinstated.',
      async (reason) => {
        await api(`/api/accounts/${encodeURIComponent(c.accountId)}/reinstate`, { reason });
        toast(`Reinstated ${c.accountId}.`);
        selectCase(c.caseId);
        refresh();
      },
    );
  }
  return null;
}

// The decision area of a case or cluster: its title, the reason box (and what goes with it), the buttons and a hint.
function decisionBox(title, body, buttons, hint) {
  return el(
    'div',
    { class: 'decision', id: 'decision' },
    el('h3', {}, title),
    body,
    el('div', { class: 'buttons' }, buttons, el('span', { class: 'hint' }, hint)),
  );
}

// A decision with one button (re-open, reinstate): it is enabled once the reason has 3 characters and runs
// `run(reason)`; on failure it shows why and enables the button again.
function oneStepDecision(title, placeholder, buttonAttrs, label, hint, run) {
  const reason = el('textarea', { id: 'reason', placeholder });
  const btn = el('button', { ...buttonAttrs, disabled: true }, label);
  reason.addEventListener('input', () => {
    btn.disabled = reason.value.trim().length < 3;
  });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      await run(reason.value);
    } catch (e) {
      toast(e.message, true);
      btn.disabled = false;
    }
  });
  return decisionBox(title, reason, [btn], hint);
}

// ---------------------------------------------------------------- cluster cases

async function renderClusters() {
  const list = document.getElementById('list');
  const r = await api('/api/clusters');
  const rows = (items) =>
    items.map((c) =>
      listRow(
        {
          class: `row${state.selected === c.clusterCaseId ? ' selected' : ''}`,
          'data-cluster': c.clusterCaseId,
          onclick: () => selectCluster(c.clusterCaseId),
        },
        [
          c.clusterCaseId,
          c.decision
            ? el('span', { class: `badge ${c.decision.approved ? 'bad' : 'ok'}` }, c.decision.approved ? 'approved' : 'rejected')
            : el('span', { class: 'badge warn' }, 'open'),
        ],
        [`cluster ${c.clusterId} · opened ${dur(Date.now() - Date.parse(c.createdAt))} ago${c.linkedCaseId ? ` · follows ${c.linkedCaseId}` : ''}`],
      ),
    );
  list.replaceChildren(
    ...some(
      el('h2', {}, `Cluster cases (${r.open.length}) · one decision per cluster`),
      ...(r.open.length ? rows(r.open) : [el('div', { class: 'empty' }, 'No open cluster cases.')]),
      r.decided.length ? el('h2', { style: 'margin-top:18px' }, 'Decided') : null,
      ...rows(r.decided),
    ),
  );
}

function shareBars(id, title, entries) {
  const card = el('div', { class: 'card', id }, el('h3', {}, title));
  if (!entries.length) {
    card.append(el('div', { class: 'hint' }, 'No data (no usage events from the serving tier).'));
    return card;
  }
  const W = 520,
    row = 22;
  const g = svg('svg', { viewBox: `0 0 ${W} ${entries.length * row + 4}`, width: '100%', role: 'img', 'aria-label': title });
  const color = colorMap(entries.map(([k]) => k));
  entries.forEach(([k, v], i) => {
    const w = (W - 190) * v;
    g.append(
      svg('text', { x: 0, y: i * row + 15 }, k),
      svg('rect', { x: 120, y: i * row + 4, width: Math.max(1, w), height: 14, fill: color(k), rx: 2 }),
      svg('text', { x: 126 + w, y: i * row + 15 }, `${Math.round(100 * v)}%`),
    );
  });
  card.append(g);
  return card;
}

// Counts by key as `key n, key n`, or `-` when there are none.
function countsText(counts) {
  return (
    Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '-'
  );
}

async function memberEvidence(caseId, box) {
  if (box.getAttribute('data-loaded')) return;
  box.setAttribute('data-loaded', '1');
  try {
    const r = await api(`/api/cases/${encodeURIComponent(caseId)}`);
    const ev = r.case.evidence;
    box.append(
      el(
        'div',
        { class: 'kv', style: 'margin:6px 0' },
        el('div', {}, 'Case'),
        el('div', { class: 'mono' }, `${r.case.caseId} (${r.case.state}${r.case.outcome ? `, ${r.case.outcome}` : ''})`),
        el('div', {}, 'Requests'),
        el('div', {}, `${ev.totals.requests} · tokens in ${ev.totals.inputTokens} / out ${ev.totals.outputTokens}`),
        el('div', {}, 'Models'),
        el('div', {}, countsText(ev.totals.models)),
        el('div', {}, 'Prompt classes'),
        el('div', {}, countsText(ev.totals.promptClasses)),
        el('div', {}, 'Subnets'),
        el('div', { class: 'mono' }, ev.subnets.join(', ') || '-'),
        el('div', {}, 'User agents'),
        el('div', { class: 'mono' }, ev.userAgents.join(' | ') || '-'),
        el('div', {}, 'Templates'),
        el('div', { class: 'mono' }, ev.templates.slice(0, 6).join(', ') || '-'),
      ),
    );
  } catch (e) {
    box.append(el('div', { class: 'hint' }, e.message));
  }
}

async function selectCluster(id) {
  const loaded = await loadDetail('data-cluster', id, `/api/clusters/${encodeURIComponent(id)}`);
  if (!loaded) return;
  const { d, data: v } = loaded;
  const h = v.header;
  const p = v.profile;
  const waiting = v.members.filter((m) => m.caseState === 'review').length;
  const excluded = new Map();
  const memberRows = v.members.map((m) => {
    const why = el('input', { type: 'text', class: 'exclude-reason hidden', 'data-account': m.accountId, placeholder: 'why exclude (required)' });
    const box = el('input', { type: 'checkbox', class: 'exclude', 'data-account': m.accountId, disabled: !!h.decision });
    box.addEventListener('change', () => {
      why.classList.toggle('hidden', !box.checked);
      if (box.checked) excluded.set(m.accountId, why);
      else excluded.delete(m.accountId);
      sync();
    });
    why.addEventListener('input', () => sync());
    const ev = el('details', { class: 'member-evidence' }, el('summary', {}, 'evidence'));
    ev.addEventListener('toggle', () => {
      if (ev.open) memberEvidence(m.caseId, ev);
    });
    return el(
      'tr',
      { 'data-member': m.accountId },
      el('td', {}, box, why),
      el('td', { class: 'mono' }, m.accountId),
      el('td', {}, m.excludedReason ? `${m.caseState} · excluded: ${m.excludedReason}` : `${m.caseState}${m.outcome ? ` · ${m.outcome}` : ''}`),
      el('td', {}, m.score.toFixed(2)),
      el('td', {}, [...m.signals, ...m.links.map((l) => `${l.with}: ${l.links.join(', ')}`)].join(' · ') || '-', ev),
    );
  });
  const reason = el('textarea', { id: 'cluster-reason', placeholder: 'Reason (required, recorded on the cluster case and on every member)' });
  const approve = el('button', { class: 'act approve', id: 'cluster-approve', disabled: true }, `Approve · suspend ${waiting} members`);
  const reject = el('button', { class: 'act reject', id: 'cluster-reject', disabled: true }, 'Reject · no action');
  function sync() {
    const ok = reason.value.trim().length >= 3 && [...excluded.values()].every((w) => w.value.trim().length >= 3);
    approve.disabled = reject.disabled = !ok;
    approve.textContent = `Approve · suspend ${waiting - [...excluded.keys()].filter((a) => v.members.find((m) => m.accountId === a && m.caseState === 'review')).length} members`;
  }
  reason.addEventListener('input', sync);
  const act = async (verb) => {
    approve.disabled = reject.disabled = true;
    try {
      const exclude = [...excluded.entries()].map(([accountId, w]) => ({ accountId, reason: w.value }));
      const r = await api(`/api/clusters/${encodeURIComponent(id)}/${verb}`, { reason: reason.value, exclude });
      toast(
        `${verb === 'approve' ? 'Approved' : 'Rejected'} ${id}: ${r.decided.length} members, ${r.excluded.length} excluded${r.notReached.length ? `, ${r.notReached.length} not reached (decide again)` : ''}.`,
        r.notReached.length > 0,
      );
      refresh();
      if (state.selected === id) selectCluster(id);
    } catch (e) {
      toast(e.message, true);
      sync();
    }
  };
  approve.addEventListener('click', () => act('approve'));
  reject.addEventListener('click', () => act('reject'));
  const color = (k) => (k === 'members' ? '#e0a530' : '#4ea1ff');
  d.replaceChildren(
    ...some(
      el(
        'div',
        { class: 'title' },
        el('h1', { id: 'cluster-title' }, h.clusterCaseId),
        el('span', { class: `badge ${h.decision ? 'ok' : 'warn'}` }, h.state),
        el('span', { class: 'hint mono' }, `cluster ${h.clusterId}`),
      ),
      el(
        'div',
        { class: 'kv' },
        el('div', {}, 'Members'),
        el('div', {}, `${v.members.length} (${waiting} waiting for review)`),
        el('div', {}, 'Opened'),
        el('div', {}, h.createdAt),
        h.linkedCaseId ? el('div', {}, 'Follows') : null,
        h.linkedCaseId ? el('div', {}, `${h.linkedCaseId} (members that joined after its decision)`) : null,
        el('div', {}, 'Tokens'),
        el('div', {}, p.outputPerInput === null ? '-' : `${p.outputPerInput} output tokens per input token`),
        el('div', {}, 'Pivot'),
        el('div', {}, p.pivot ? JSON.stringify(p.pivot) : '-'),
        h.decision ? el('div', {}, 'Decision') : null,
        h.decision
          ? el(
              'div',
              { id: 'cluster-decision' },
              `${h.decision.approved ? 'approved' : 'rejected'} by ${h.decision.reviewer} at ${h.decision.decidedAt}: ${h.decision.reason}`,
            )
          : null,
      ),
      h.decision
        ? null
        : decisionBox(
            'One decision for the cluster',
            reason,
            [approve, reject],
            'Each member goes through its own guardrails (allowlist, breaker, escalating duration) and gets its own audit entry and ban event. Tick a member to exclude it.',
          ),
      el(
        'div',
        { class: 'grid' },
        el(
          'div',
          { class: 'card wide', id: 'cluster-timeline' },
          el('h3', {}, 'Cluster timeline · requests of all members per hour (UTC)'),
          barChart(
            p.timeline.map((t) => ({ label: hourLabel(t.t), total: t.n, parts: [['requests', t.n]] })),
            { color, label: 'cluster timeline', width: 1040 },
          ),
        ),
        shareBars('cluster-prompts', 'Intent profile · prompt classes', p.promptClasses.slice(0, 8)),
        shareBars('cluster-models', 'Models', p.models.slice(0, 8)),
      ),
      el(
        'div',
        { class: 'card', id: 'cluster-members' },
        el('h3', {}, 'Members and what links them'),
        el(
          'table',
          { class: 'links' },
          el(
            'thead',
            {},
            el('tr', {}, el('th', {}, 'Exclude'), el('th', {}, 'Member'), el('th', {}, 'Case'), el('th', {}, 'Score'), el('th', {}, 'Links')),
          ),
          el('tbody', {}, memberRows),
        ),
      ),
      el(
        'div',
        { class: 'card', id: 'audit' },
        el('h3', {}, 'Cluster audit trail'),
        el(
          'table',
          {},
          el(
            'tbody',
            {},
            v.audit.map((a) => auditRow(a, el('td', { class: 'mono' }, a.accountId))),
          ),
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- shell

async function refresh() {
  try {
    state.session = await api('/api/session');
    renderStatus();
    const wide = ['audit', 'signals', 'controls'].includes(state.tab);
    document.getElementById('main').classList.toggle('wide', wide);
    document.getElementById('toolbar').classList.toggle('hidden', state.tab !== 'queue');
    if (state.tab === 'queue') await renderQueue();
    else if (state.tab === 'clusters') await renderClusters();
    else if (state.tab === 'suspended') await renderSuspended();
    else if (state.tab === 'recent') await renderRecent();
    else if (state.tab === 'allowlist') await renderAllowlist();
    else if (state.tab === 'audit') await renderAudit();
    else if (state.tab === 'signals') await renderSignals();
    else await renderControls();
  } catch (e) {
    toast(e.message, true);
  }
}

/** After a decision: the next case nobody else holds, claimed for me (or an empty detail when none is left). */
async function goNext(afterCaseId) {
  const f = state.filters;
  const n = await api('/api/next', { after: afterCaseId, sort: f.sort, reason: f.reason, decision: f.decision, cluster: f.cluster });
  await refresh();
  if (n && n.entry) selectCase(n.entry.caseId);
  else {
    state.selected = null;
    document.getElementById('detail').replaceChildren(el('div', { class: 'empty', id: 'queue-done' }, 'Nothing left to review.'));
  }
}

/** Refresh the queue once the workflow has applied a decision (the case leaves review). */
async function followDecision(caseId) {
  for (let i = 0; i < 60; i++) {
    await new Promise((res) => setTimeout(res, 1000));
    const now = await api(`/api/cases/${encodeURIComponent(caseId)}`).catch(() => null);
    if (now && now.case.state !== 'review' && (now.case.state !== 'closed' || now.case.outcome)) break;
  }
  if (state.tab === 'queue') renderQueue().catch(() => null);
}

function move(step) {
  if (state.tab !== 'queue' || !state.rows.length) return;
  const i = state.rows.indexOf(state.selected);
  const j = i < 0 ? (step > 0 ? 0 : state.rows.length - 1) : Math.min(state.rows.length - 1, Math.max(0, i + step));
  selectCase(state.rows[j]);
  const row = document.querySelector(`#list .row[data-case="${CSS.escape(state.rows[j])}"]`);
  if (row) row.scrollIntoView({ block: 'nearest' });
}

/** `a` / `r`: claim the case, then type the reason; Enter confirms, Esc cancels. */
async function arm(verb) {
  const reason = document.getElementById('reason');
  if (!state.decide || !reason) {
    toast('Select a case under review first (j / k).', true);
    return;
  }
  try {
    await api(`/api/cases/${encodeURIComponent(state.selected)}/claim`, {});
  } catch (e) {
    toast(e.message, true);
    return;
  }
  state.armed = verb;
  const hint = document.getElementById('armed');
  hint.textContent = `${verb === 'approve' ? 'Approve (suspend the account)' : 'Reject (no action)'}: type the reason, Enter to confirm, Esc to cancel.`;
  hint.classList.remove('hidden');
  reason.focus();
}

function disarm() {
  state.armed = null;
  const hint = document.getElementById('armed');
  if (hint) hint.classList.add('hidden');
}

function onKey(e) {
  const t = e.target;
  const typing = t && ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName);
  if (typing) {
    if (e.key === 'Escape') {
      disarm();
      t.blur();
    } else if (e.key === 'Enter' && !e.shiftKey && t.id === 'reason' && state.armed && state.decide) {
      e.preventDefault();
      const v = state.armed;
      disarm();
      state.decide(v);
    }
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = {
    j: () => move(1),
    k: () => move(-1),
    a: () => arm('approve'),
    r: () => arm('reject'),
    c: () =>
      state.selected &&
      api(`/api/cases/${encodeURIComponent(state.selected)}/claim`, {}).then(
        (cl) => {
          toast(`Claimed ${cl.caseId} until ${cl.until}.`);
          renderQueue();
        },
        (err) => toast(err.message, true),
      ),
    '/': () => {
      const f = document.getElementById('find');
      if (f) f.focus();
    },
  };
  if (keys[e.key]) {
    e.preventDefault();
    keys[e.key]();
  }
}

function showLogin() {
  document.getElementById('login').classList.remove('hidden');
  document.getElementById('main').classList.add('hidden');
}

function start() {
  const m = /(?:^|[#&])token=([0-9a-fA-F]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('dg-token', m[1]);
    history.replaceState(null, '', location.pathname);
  }
  state.token = sessionStorage.getItem('dg-token');
  document.getElementById('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem('dg-token', document.getElementById('login-token').value.trim());
    location.reload();
  });
  document.querySelectorAll('#tabs button').forEach((b) =>
    b.addEventListener('click', () => {
      document.querySelectorAll('#tabs button').forEach((x) => x.classList.toggle('active', x === b));
      state.tab = b.getAttribute('data-tab');
      refresh();
    }),
  );
  document.addEventListener('keydown', onKey);
  if (!state.token) {
    showLogin();
    return;
  }
  refresh();
  setInterval(() => {
    if (state.tab === 'queue') refresh();
  }, 15000);
}

document.addEventListener('DOMContentLoaded', start);
