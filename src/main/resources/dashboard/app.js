// Warden's dashboard: asks for a token once (kept in sessionStorage for this tab), then shows the
// features, the approval queue, a feature's page and the live feed. Views switch on the URL's hash,
// so nothing ever reloads the page; the feed keeps everything current.

import {api, token, whenUnauthorized} from './api.js';
import {h, replace, when, featureHref} from './dom.js';
import {FeedClient, summary} from './feed.js';
import {state, loadFeatures, loadQueue, eventsArrived, onChange} from './state.js';
import {featuresView, NEEDS_A_PERSON} from './features.js';
import {approvalsView} from './approvals.js';
import {featureView} from './feature.js';
import {feedView} from './feedview.js';
import {newFeatureView} from './newfeature.js';
import {me, loadMe} from './controls.js';

const $ = (id) => document.getElementById(id);
let feed = null;
let current = null; // the view on screen: {el, dispose()}

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [section, ...rest] = hash.split('/');
  const id = rest.join('/');
  if (current) current.dispose();
  if (section === 'approvals') current = approvalsView(id || null);
  else if (section === 'features' && id) current = featureView(id);
  else if (section === 'feed') current = feedView();
  else if (section === 'new') current = newFeatureView();
  else if (section === 'attention') current = featuresView('attention');
  else current = featuresView();
  replace($('view'), current.el);
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('here', a.dataset.nav === (section || 'features')
    || (section === 'features' && a.dataset.nav === 'features') || (section === 'new' && a.dataset.nav === 'features')));
  window.scrollTo(0, 0);
}

function badge() {
  const count = state.pending.length;
  const el = $('pending-badge');
  el.textContent = String(count);
  el.hidden = count === 0;
  el.title = `${count} proposal(s) waiting for a decision`;
  $('feature-count').textContent = state.features.size ? String(state.features.size) : '';
  const waiting = [...state.features.values()].filter((f) => NEEDS_A_PERSON.includes(f.status)).length;
  const attention = $('attention-badge');
  attention.textContent = String(waiting);
  attention.hidden = waiting === 0;
  $('nav-attention').title = `${waiting} feature(s) waiting for a person (awaiting_input, needs_attention)`;
  document.title = count || waiting ? `(${count + waiting}) Warden` : 'Warden';
}

/** The sidebar: the newest events, a capped list (the full, virtualised one is #/feed). */
const SIDEBAR_ROWS = 40;

function sidebar() {
  const rows = state.feed.events.slice(0, SIDEBAR_ROWS).map((e) => h('li', {class: 'feed-row', dataset: {type: e.type, offset: e.offset}},
    h('time', {datetime: e.ts, title: e.ts}, when(e.ts)), ' ',
    e.feature ? h('a', {href: featureHref(e.feature), class: 'feature-link'}, e.feature) : null, ' ',
    h('span', {class: 'event-type'}, e.type), ' ',
    h('span', {class: 'event-summary'}, summary(e))));
  replace($('live-list'), rows.length ? rows : h('li', {class: 'muted'}, 'Waiting for activity…'));
}

function connection(status, text) {
  const el = $('conn');
  el.className = `conn conn-${status}`;
  el.textContent = text;
}

function askForToken(message) {
  if (feed) feed.stop();
  feed = null;
  token.clear();
  $('login').hidden = false;
  $('app').hidden = true;
  $('login-error').textContent = message || '';
  $('token-input').value = '';
  $('token-input').focus();
}

async function start() {
  try {
    await Promise.all([loadMe(), loadFeatures(), loadQueue()]);
  } catch (e) {
    askForToken(e.status === 401 ? 'That token was not accepted (401).' : e.message);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('whoami').textContent = `${me.name} · ${me.role}`;
  $('whoami').title = `this token's role is ${me.role}: controls it may not use are disabled, with the reason`;
  badge();
  sidebar();
  route();
  feed = new FeedClient({onEvents: eventsArrived, onState: connection});
  feed.start();
}

function init() {
  whenUnauthorized(() => askForToken('Warden no longer accepts this token (401). Enter one again.'));
  onChange((change) => {
    badge();
    if (change.events) sidebar();
  });
  window.addEventListener('hashchange', route);
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    token.set(value);
    start();
  });
  $('signout').addEventListener('click', () => askForToken('Token forgotten.'));
  if (token.get()) start();
  else askForToken('');
}

init();

// for people poking at the console, and for the browser test
window.warden = {state, api, get feed() { return feed; }};
