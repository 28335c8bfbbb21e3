// distill-guard review console: the audit view, reviewer feedback per signal, and the operator controls
// (allowlist, breaker, shadow mode, manual suspension). Same rules as app.js: textContent only, never innerHTML.
'use strict';
/* global el, qs, api, refresh, state, toast, auditRow -- defined in app.js, which index.html loads first */
/* exported renderAudit, renderSignals, renderControls, allowlistControls -- called from app.js */

const AUDIT_ACTIONS = [
  'case-opened',
  'routed',
  'review-requested',
  'review-approved',
  'review-rejected',
  'review-overdue',
  'suspended',
  'suspension-compensated',
  'dismissed',
  'reinstated',
  'suspension-expired',
  'shadow-recorded',
  'allowlist-added',
  'allowlist-removed',
  'breaker-tripped',
  'breaker-rearmed',
  'shadow-changed',
  'manual-case-requested',
  'case-reopened',
  'case-duplicate',
  'case-error',
];
const auditFilters = { since: '7d', actor: '', account: '', action: '' };

function field(label, input) {
  return el('label', { class: 'field' }, el('span', {}, label), input);
}

function auditQuery() {
  return qs(auditFilters);
}

async function renderAudit() {
  const list = document.getElementById('list');
  const f = auditFilters;
  const since = el(
    'select',
    { id: 'audit-since' },
    [
      ['24h', 'last 24 hours'],
      ['7d', 'last 7 days'],
      ['30d', 'last 30 days'],
      ['90d', 'last 90 days'],
      ['365d', 'last year'],
    ].map(([v, t]) => el('option', { value: v }, t)),
  );
  since.value = f.since;
  const actor = el('input', { id: 'audit-actor', placeholder: 'actor contains…', value: f.actor, autocomplete: 'off' });
  const account = el('input', { id: 'audit-account', placeholder: 'account id', value: f.account, autocomplete: 'off' });
  const action = el(
    'select',
    { id: 'audit-action' },
    el('option', { value: '' }, 'any action'),
    AUDIT_ACTIONS.map((a) => el('option', { value: a }, a)),
  );
  action.value = f.action;
  const apply = () => {
    Object.assign(f, { since: since.value, actor: actor.value.trim(), account: account.value.trim(), action: action.value });
    renderAudit();
  };
  const form = el(
    'form',
    {
      class: 'filterbar',
      id: 'audit-filters',
      onsubmit: (e) => {
        e.preventDefault();
        apply();
      },
    },
    field('Since', since),
    field('Actor', actor),
    field('Account', account),
    field('Action', action),
    el('button', { type: 'submit', class: 'act reject', id: 'audit-apply' }, 'Filter'),
    el('button', { type: 'button', class: 'act reject', id: 'export-csv', onclick: exportCsv }, 'Export CSV'),
  );
  since.addEventListener('change', apply);
  action.addEventListener('change', apply);
  const entries = await api(`/api/audit?${auditQuery()}`);
  list.replaceChildren(
    el('h2', {}, `Audit trail (${entries.length}) · newest first`),
    form,
    entries.length
      ? el(
          'table',
          { id: 'audit-table' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['When (UTC)', 'Who', 'What', 'Case', 'Account', 'Why'].map((h) => el('th', {}, h)),
            ),
          ),
          el(
            'tbody',
            {},
            entries.map((a) => auditRow(a, el('td', { class: 'mono' }, a.caseId), el('td', { class: 'mono' }, a.accountId))),
          ),
        )
      : el('div', { class: 'empty', id: 'audit-table' }, 'No audit entries match.'),
  );
}

async function exportCsv() {
  try {
    const res = await fetch(`/api/audit.csv?${auditQuery()}`, {
      headers: { 'X-Console-Token': state.token },
      credentials: 'omit',
      cache: 'no-store',
    });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || `http ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: 'distill-guard-audit.csv', class: 'hidden' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(e.message, true);
  }
}

function rateBar(rate) {
  if (rate === null || rate === undefined) return el('span', { class: 'hint' }, 'no labels yet');
  const color = rate > 0.5 ? 'var(--bad)' : rate > 0.2 ? 'var(--warn)' : 'var(--ok)';
  return el(
    'div',
    { class: 'rate' },
    el('div', { class: 'bar' }, el('div', { style: `width:${Math.max(2, rate * 100)}%;background:${color}` })),
    el('span', {}, `${Math.round(rate * 100)}%`),
  );
}

function feedbackTable(id, title, rows) {
  return el(
    'div',
    { class: 'card', style: 'margin-bottom:14px' },
    el('h3', {}, title),
    rows.length
      ? el(
          'table',
          { id },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['Signal', 'Confirmed', 'Overturned', 'Approved', 'Rejected', 'Reinstated', 'Overturn rate'].map((h) => el('th', {}, h)),
            ),
          ),
          el(
            'tbody',
            {},
            rows.map((r) =>
              el(
                'tr',
                { 'data-signal': r.name },
                el('td', { class: 'mono' }, r.name),
                el('td', {}, r.confirmed),
                el('td', {}, r.overturned),
                el('td', {}, r.approved),
                el('td', {}, r.rejected),
                el('td', {}, r.reinstatedReviewed + r.reinstatedAuto),
                el('td', {}, rateBar(r.overturnRate)),
              ),
            ),
          ),
        )
      : el('div', { class: 'empty', id }, 'No reviewer decisions recorded yet.'),
  );
}

async function renderSignals() {
  const list = document.getElementById('list');
  const r = await api('/api/signals');
  list.replaceChildren(
    el('h2', {}, 'Reviewer feedback per signal · highest overturn rate first'),
    el(
      'p',
      { class: 'hint' },
      'Confirmed: approved and not reinstated. Overturned: rejected, or reinstated after a suspension. No threshold changes automatically.',
    ),
    feedbackTable('signals-table', 'Signals', r.signals),
    feedbackTable('combos-table', 'Reasons together', r.combinations),
  );
}

function reasonBox(id, placeholder) {
  return el('textarea', { id, placeholder, class: 'reason' });
}

/** A button enabled once its reason box holds 3 characters, running `run(reason)` with a toast either way. */
function action(id, label, reason, run, cls) {
  const b = el('button', { class: `act ${cls || 'reject'}`, id, disabled: true }, label);
  reason.addEventListener('input', () => {
    b.disabled = reason.value.trim().length < 3;
  });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      toast(await run(reason.value.trim()));
      reason.value = '';
      refresh();
    } catch (e) {
      toast(e.message, true);
      b.disabled = false;
    }
  });
  return b;
}

// An operator control: a card with its title, its inputs, the reason box, then the action button.
function controlCard(id, title, inputs, reason, button) {
  return el('div', { class: 'card', id }, el('h3', {}, title), inputs, reason, el('div', { class: 'buttons' }, button));
}

// A checkbox with its label on the same line.
function checkField(box, label) {
  return el('label', { class: 'field inline' }, box, el('span', {}, label));
}

async function renderControls() {
  const list = document.getElementById('list');
  const s = state.session;
  const b = s.breaker;
  const rearmReason = reasonBox('rearm-reason', 'What did you check before re-arming? (required)');
  const breaker = controlCard(
    'breaker-card',
    'Suspension-rate circuit breaker',
    el(
      'p',
      {},
      b.tripped
        ? el('span', { class: 'badge bad' }, `TRIPPED at ${b.trippedAt}: ${b.trippedReason || ''}`)
        : el('span', { class: 'badge ok' }, 'armed: auto-suspend allowed'),
      ` · ${b.lastHour.toFixed(1)} auto-suspensions in the last hour`,
    ),
    rearmReason,
    action('rearm', 'Re-arm breaker', rearmReason, async (reason) => {
      const r = await api('/api/breaker/rearm', { reason });
      return `Breaker re-armed by ${r.rearmedBy}.`;
    }),
  );

  const global = el('input', { type: 'checkbox', id: 'shadow-global' });
  global.checked = !!s.shadow.global;
  const signals = el('input', {
    id: 'shadow-signals',
    value: s.shadow.signals.join(', '),
    placeholder: 'signals in shadow mode, comma-separated',
    autocomplete: 'off',
  });
  const shadowReason = reasonBox('shadow-reason', 'Why change shadow mode? (required)');
  const shadow = controlCard(
    'shadow-card',
    'Shadow mode',
    [
      el('p', { class: 'hint' }, 'Decisions are computed and recorded, never applied: globally, or for the listed signals.'),
      checkField(global, 'global shadow mode'),
      field('Shadowed signals', signals),
    ],
    shadowReason,
    action('shadow-save', 'Save shadow mode', shadowReason, async (reason) => {
      const r = await api('/api/shadow', {
        global: global.checked,
        signals: signals.value
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
        reason,
      });
      return `Shadow mode ${r.global ? 'ON' : 'off'}; shadowed signals: ${r.signals.join(', ') || 'none'}.`;
    }),
  );

  const acct = el('input', { id: 'suspend-account', placeholder: 'account id', autocomplete: 'off' });
  const approveNow = el('input', { type: 'checkbox', id: 'suspend-approve' });
  approveNow.checked = true;
  const suspendReason = reasonBox('suspend-reason', 'Why suspend this account? (required, audited, carried in the event)');
  const manual = controlCard(
    'manual-card',
    'Suspend an account no case covers',
    [
      el('p', { class: 'hint' }, 'Opens a manual case; the workflow applies the allowlist, shadow mode, keys, event and audit as for any case.'),
      field('Account', acct),
      checkField(approveNow, 'approve it now (else it waits in the queue for another reviewer)'),
    ],
    suspendReason,
    action(
      'suspend',
      'Suspend account',
      suspendReason,
      async (reason) => {
        const id = acct.value.trim();
        const r = await api(`/api/accounts/${encodeURIComponent(id)}/suspend`, { reason, approve: approveNow.checked });
        return r.reviewer ? `Opened ${r.caseId} and approved it; the workflow suspends ${id}.` : `Opened ${r.caseId}; it waits in the queue.`;
      },
      'approve',
    ),
  );
  // The restrict response would add its action here, next to Suspend.
  list.replaceChildren(el('h2', {}, 'Controls'), el('div', { class: 'grid' }, breaker, shadow, manual));
}

/** The allowlist tab's add and remove forms (the list itself is app.js renderAllowlist). */
function allowlistControls(entries) {
  const acct = el('input', { id: 'allow-account', placeholder: 'account id', autocomplete: 'off' });
  const owner = el('input', { id: 'allow-owner', placeholder: 'owner (team)', autocomplete: 'off' });
  const days = el(
    'select',
    { id: 'allow-days' },
    [
      ['7', '7 days'],
      ['30', '30 days'],
      ['90', '90 days'],
      ['366', '366 days'],
    ].map(([v, t]) => el('option', { value: v }, t)),
  );
  days.value = '30';
  const reason = reasonBox('allow-reason', 'Why is this account never to be suspended? (required)');
  const add = controlCard(
    'allow-add',
    'Add to the allowlist',
    [field('Account', acct), field('Owner', owner), field('Expires in', days)],
    reason,
    action(
      'allow-add-btn',
      'Add',
      reason,
      async (r) => {
        const e = await api('/api/allowlist', { accountId: acct.value.trim(), owner: owner.value.trim(), days: Number(days.value), reason: r });
        return `Allowlisted ${e.accountId} until ${new Date(e.expiresAt * 1000).toISOString()}.`;
      },
      'reinstate',
    ),
  );
  if (!entries.length) return [add];
  const which = el(
    'select',
    { id: 'allow-remove-account' },
    entries.map((e) => el('option', { value: e.accountId }, e.accountId)),
  );
  const why = reasonBox('allow-remove-reason', 'Why remove it? (required)');
  const remove = controlCard(
    'allow-remove',
    'Remove from the allowlist',
    field('Account', which),
    why,
    action('allow-remove-btn', 'Remove', why, async (r) => {
      await api(`/api/allowlist/${encodeURIComponent(which.value)}/remove`, { reason: r });
      return `Removed ${which.value} from the allowlist.`;
    }),
  );
  return [add, remove];
}
