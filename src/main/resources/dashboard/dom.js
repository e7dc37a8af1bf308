// Building the page. Everything the API says (ids, file names, descriptions, diffs, log lines) is
// agent-controlled: it only ever reaches the page as text nodes or attribute values set through the
// DOM, never through innerHTML, so no markup in it is ever parsed. h() is the one way to make elements.

/**
 * h('tr', {class: 'row', onclick: fn, dataset: {id}}, 'text', otherNode, [more, children])
 * Strings and numbers become text nodes; null/undefined/false children are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'href') el.setAttribute('href', safeHref(value));
      else if (key.startsWith('on') || key === 'src' || key === 'style' || key === 'srcdoc') {
        throw new Error(`h(): attribute ${key} is not allowed`);
      } else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Only in-page links: a link built from API data can never become javascript: or another site. */
export function safeHref(value) {
  const text = String(value);
  return text.startsWith('#') || (text.startsWith('/') && !text.startsWith('//')) ? text : '#';
}

/** The in-page link to a feature (ids are slugs, but encode anyway). */
export function featureHref(id) {
  return '#/features/' + encodeURIComponent(id);
}

export function approvalHref(id) {
  return '#/approvals/' + encodeURIComponent(id);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/** "14:03:07" today, "21 Nov 14:03" otherwise; the full time as a tooltip is up to the caller. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit'})
    : d.toLocaleString([], {day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit'});
}

/** "3 s ago", "5 min ago", ... */
export function ago(iso) {
  if (!iso) return '';
  const ms = Date.now() - new Date(iso).getTime();
  if (Number.isNaN(ms)) return '';
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} d ago`;
}

/** A status word as a coloured pill; the class is picked from a fixed list, never from the text. */
const TONES = {
  good: ['valid', 'applied', 'active', 'approved', 'connected', 'passed'],
  warn: ['proposed', 'paused', 'awaiting_input', 'queued', 'running', 'degraded', 'stale', 'expired', 'registered', 'medium'],
  bad: ['unsandboxed', 'invalid', 'failed', 'rejected', 'needs_attention', 'critical', 'error', 'high', 'reverted'],
  quiet: ['abandoned', 'low', 'info', 'none', 'pending', 'disconnected'],
};

export function pill(word, title) {
  const text = word === undefined || word === null ? '—' : String(word);
  let tone = 'neutral';
  for (const [name, words] of Object.entries(TONES)) {
    if (words.includes(text)) tone = name;
  }
  return h('span', {class: `pill pill-${tone}`, title}, text);
}

/** A small ring of work with at most `limit` promises in flight (the browser has few connections per host). */
export function limiter(limit) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= limit || waiting.length === 0) return;
    running++;
    const {task, resolve, reject} = waiting.shift();
    Promise.resolve().then(task).then(resolve, reject).finally(() => {
      running--;
      next();
    });
  };
  return (task) => new Promise((resolve, reject) => {
    waiting.push({task, resolve, reject});
    next();
  });
}

/** The badge of a feature whose agent runs without the sandbox (bin/warden agent --no-sandbox, or no bubblewrap). */
export function unsandboxedBadge(f) {
  const span = pill('unsandboxed', `the agent runs without a sandbox: ${f.lastRun?.reason ?? 'no reason given'}`);
  span.classList.add('unsandboxed');
  return span;
}
