// The features list: status, agent connection, last checkpoint and its verdict, one page at a time
// (the agent and checkpoint columns cost three reads per feature, so only the page on screen is read).
// Rows change in place when the feed says their feature changed.

import {h, replace, pill, ago, featureHref, unsandboxedBadge} from './dom.js';
import {state, loadExtras, onChange} from './state.js';
import {action, actions} from './controls.js';

const STATUSES = ['registered', 'queued', 'active', 'paused', 'awaiting_input', 'needs_attention', 'proposed', 'applied', 'failed',
  'rejected', 'abandoned'];
const view = {page: 0, size: 25, status: '', text: ''}; // kept across visits in this tab

/** Statuses that wait for a person: the top bar counts them, #/attention lists them. */
export const NEEDS_A_PERSON = ['awaiting_input', 'needs_attention'];

export function featuresView(preset) {
  if (preset) {
    view.status = preset;
    view.page = 0;
  }
  const summaryLine = h('p', {class: 'status-summary'});
  const statusSelect = h('select', {id: 'status-filter', 'aria-label': 'Status'},
    h('option', {value: ''}, 'every status'), h('option', {value: 'attention'}, 'needs a person'), STATUSES.map((s) => h('option', {value: s}, s)));
  statusSelect.value = view.status;
  const search = h('input', {type: 'search', id: 'feature-search', placeholder: 'Filter by id or repository', value: view.text});
  const sizeSelect = h('select', {'aria-label': 'Rows per page'}, [25, 50, 100].map((n) => h('option', {value: n}, `${n} per page`)));
  sizeSelect.value = String(view.size);
  const tbody = h('tbody');
  const pager = h('div', {class: 'pager'});
  const el = h('section', {class: 'features'},
    h('h1', null, 'Features'),
    actions({class: 'create-bar'}, action('New feature', 'agent', {id: 'new-feature', class: 'primary', onclick: () => { location.hash = '#/new'; }})),
    summaryLine,
    h('div', {class: 'controls'}, search, statusSelect, sizeSelect),
    h('table', {class: 'grid', id: 'features-table'},
      h('thead', null, h('tr', null, ['Feature', 'Status', 'Repository → target', 'Agent', 'Last checkpoint', 'Verdict', 'Updated']
        .map((t) => h('th', null, t)))),
      tbody),
    pager);

  const rows = new Map(); // id → tr on screen
  let drawnKey = ''; // the list's length and the ids on screen, as last drawn
  const keyOf = (list) => `${list.length}:${list.slice(view.page * view.size, (view.page + 1) * view.size).map((f) => f.id).join(' ')}`;

  const filtered = () => {
    const text = view.text.toLowerCase();
    return [...state.features.values()]
      .filter((f) => !view.status || f.status === view.status || (view.status === 'attention' && NEEDS_A_PERSON.includes(f.status)))
      .filter((f) => !text || f.id.toLowerCase().includes(text) || (f.repo || '').toLowerCase().includes(text))
      .sort((a, b) => (b.createdAt || '').localeCompare(a.createdAt || '') || a.id.localeCompare(b.id));
  };

  const row = (f) => {
    const x = state.extras.get(f.id) || {};
    const agent = x.agent;
    return h('tr', {dataset: {id: f.id}},
      h('td', null, h('a', {href: featureHref(f.id), class: 'feature-link'}, f.id)),
      h('td', {class: 'status'}, pill(f.status, f.statusReason || undefined),
        f.unsandboxed ? [' ', unsandboxedBadge(f)] : null),
      h('td', {class: 'repo'}, h('span', {title: f.repo}, shortRepo(f.repo)), ' → ', f.target),
      h('td', {class: 'agent'}, agent === undefined ? '…' : agent === null ? '—'
        : agent.connected ? pill('connected', [agent.agent, agent.version].filter(Boolean).join(' ')) : pill('disconnected')),
      h('td', {class: 'checkpoint'}, x.checkpoint === undefined ? '…' : x.checkpoint === null ? 'none'
        : h('span', {title: x.checkpoint.takenAt}, `#${x.checkpoint.seq} · ${ago(x.checkpoint.takenAt)}`)),
      h('td', {class: 'verdict'}, x.verdict === undefined ? '…' : x.verdict === null ? '—' : pill(x.verdict)),
      h('td', {class: 'updated', title: f.updatedAt}, ago(f.updatedAt)));
  };

  const draw = () => {
    const list = filtered();
    const pages = Math.max(1, Math.ceil(list.length / view.size));
    view.page = Math.min(view.page, pages - 1);
    const shown = list.slice(view.page * view.size, (view.page + 1) * view.size);
    drawnKey = keyOf(list);
    rows.clear();
    replace(tbody, shown.length ? shown.map((f) => {
      const tr = row(f);
      rows.set(f.id, tr);
      loadExtras(f.id);
      return tr;
    }) : h('tr', null, h('td', {colspan: 7, class: 'muted'}, state.features.size ? 'No feature matches.' : 'No features yet.')));
    const from = list.length ? view.page * view.size + 1 : 0;
    replace(pager,
      h('button', {type: 'button', disabled: view.page === 0, onclick: () => { view.page--; draw(); }}, '‹ Newer'),
      h('span', {class: 'muted'}, ` ${from}–${Math.min(list.length, (view.page + 1) * view.size)} of ${list.length} `),
      h('button', {type: 'button', disabled: view.page >= pages - 1, onclick: () => { view.page++; draw(); }}, 'Older ›'));
    drawSummary();
  };

  const drawSummary = () => {
    const counts = {};
    state.features.forEach((f) => { counts[f.status] = (counts[f.status] || 0) + 1; });
    replace(summaryLine, `${state.features.size} feature(s)`, Object.keys(counts).length ? ': ' : '',
      STATUSES.filter((s) => counts[s]).map((s, i) => [i ? ', ' : '', h('a', {href: '#/', class: 'count-link',
        onclick: (e) => { e.preventDefault(); view.status = s; statusSelect.value = s; view.page = 0; draw(); }}, `${counts[s]} ${s}`)]));
  };

  search.addEventListener('input', () => { view.text = search.value; view.page = 0; draw(); });
  statusSelect.addEventListener('change', () => { view.status = statusSelect.value; view.page = 0; draw(); });
  sizeSelect.addEventListener('change', () => { view.size = Number(sizeSelect.value); view.page = 0; draw(); });

  const off = onChange((change) => {
    if (change.all) return draw();
    let membershipChanged = false;
    for (const id of change.features) {
      const f = state.features.get(id);
      const tr = rows.get(id);
      if (tr && f) {
        const fresh = row(f);
        tr.replaceWith(fresh);
        rows.set(id, fresh);
        if (!change.extras) loadExtras(id, {force: true});
      } else if (f && !tr) {
        membershipChanged = true; // a new feature, or one that now matches the filter
      }
    }
    // a feature off this page changed: redraw only if the page's rows or the count would change, not on
    // every event of a feature on another page (that replaced the rows under the pointer several times a second)
    if (membershipChanged && keyOf(filtered()) !== drawnKey) draw();
    else if (change.features.size) drawSummary();
  });
  // agent connections arrive on the feed (agent.connected, agent.disconnected): no polling

  draw();
  return {el, dispose: off};
}

function shortRepo(path) {
  const parts = String(path || '').split('/').filter(Boolean);
  return parts.length > 2 ? '…/' + parts.slice(-2).join('/') : path;
}
