// The whole feed as this tab has received it (the newest 10,000 events), filtered by feature or type,
// in a virtualised list: only the rows in view are in the DOM. "Load older" reads earlier events
// from the journal through a one-off replay.

import {h, replace, when, featureHref} from './dom.js';
import {state, onChange, summary} from './state.js';
import {loadOlder, MAX_EVENTS} from './feed.js';
import {VirtualList} from './vlist.js';

export function featureFilterOf(e, text) {
  return !text || (e.feature || '').includes(text) || e.type.includes(text);
}

export function feedView() {
  let text = '';
  let shown = state.feed.events;
  const search = h('input', {type: 'search', id: 'feed-filter', placeholder: 'Filter by feature or type, e.g. checkpoint.taken'});
  const status = h('p', {class: 'muted', id: 'feed-status'});
  const detail = h('pre', {class: 'output event-detail', hidden: true});
  const older = h('button', {type: 'button', id: 'load-older'}, 'Load older');
  const list = new VirtualList({
    items: () => shown,
    rowHeight: 30,
    className: 'feed-list',
    renderRow: (e) => h('div', {class: 'feed-row vrow', dataset: {type: e.type, offset: e.offset}, onclick: () => {
      detail.hidden = false;
      detail.textContent = JSON.stringify(e, null, 2);
    }},
    h('span', {class: 'offset'}, e.offset),
    h('time', {title: e.ts}, when(e.ts)),
    e.feature ? h('a', {href: featureHref(e.feature), class: 'feature-link'}, e.feature) : h('span', {class: 'muted'}, '—'),
    h('span', {class: 'event-type'}, e.type),
    h('span', {class: 'event-summary'}, summary(e))),
  });
  const el = h('section', {class: 'feed-page'},
    h('h1', null, 'Live feed'),
    h('div', {class: 'controls'}, search, older),
    status,
    list.el,
    detail);

  const refilter = () => {
    shown = text ? state.feed.events.filter((e) => featureFilterOf(e, text)) : state.feed.events;
  };
  const describe = () => {
    status.textContent = `${shown.length.toLocaleString()} event(s)${text ? ' match' : ''}; this tab keeps the newest ${MAX_EVENTS.toLocaleString()} `
      + `(${state.feed.size.toLocaleString()} now), ${list.rendered} row(s) drawn. Click a row for its data.`;
  };

  search.addEventListener('input', () => {
    text = search.value.trim();
    refilter();
    list.el.scrollTop = 0;
    list.draw(true);
    describe();
  });
  older.addEventListener('click', async () => {
    older.disabled = true;
    older.textContent = 'Loading…';
    const {events, reachedStart} = await loadOlder(state.feed.oldest);
    const added = state.feed.addOlder(events);
    older.disabled = false;
    older.textContent = reachedStart && added === 0 ? 'Nothing older' : 'Load older';
  });

  const off = onChange((change) => {
    if (!change.events) return;
    refilter();
    list.addedAtTop(change.events.filter((e) => featureFilterOf(e, text)).length);
    describe();
  });
  const offStore = state.feed.subscribe(({older: count}) => {
    if (!count) return;
    refilter();
    list.draw(true);
    describe();
  });
  requestAnimationFrame(() => { list.draw(true); describe(); });
  return {el, dispose: () => { off(); offStore(); }};
}
