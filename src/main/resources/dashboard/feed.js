// The live feed: one WebSocket to /api/v1/events (the token as ?token=, since a browser's WebSocket
// cannot send headers), resumed with ?since=<last offset> after any drop, including the server's
// "lagged" cut-off, so nothing is missed and nothing comes twice. Events are kept in a bounded store
// (the newest MAX_EVENTS); views draw only the rows on screen.

import {token} from './api.js';

export const MAX_EVENTS = 10_000;
const LAST_KEY = 'warden.feed.last';
/** The server pings every 15 s; this much silence means the connection is dead. */
const SILENCE_MS = 45_000;

/** The newest events, newest first, at most MAX_EVENTS; listeners hear about each batch added. */
export class FeedStore {
  constructor(max = MAX_EVENTS) {
    this.max = max;
    this.events = []; // newest first
    this.offsets = new Set();
    this.listeners = new Set();
  }

  get size() {
    return this.events.length;
  }

  get newest() {
    return this.events.length ? this.events[0].offset : null;
  }

  get oldest() {
    return this.events.length ? this.events[this.events.length - 1].offset : null;
  }

  /** Adds live events (newer than all kept ones); duplicates by offset are ignored. */
  addNewer(batch) {
    const fresh = batch.filter((e) => !this.offsets.has(e.offset));
    if (!fresh.length) return;
    fresh.sort((a, b) => b.offset - a.offset);
    fresh.forEach((e) => this.offsets.add(e.offset));
    this.events.unshift(...fresh);
    this.trim();
    this.notify({newer: fresh.length, older: 0});
  }

  /** Adds events older than all kept ones ("load older"), if there is room. */
  addOlder(batch) {
    const room = this.max - this.events.length;
    const fresh = batch.filter((e) => !this.offsets.has(e.offset)).sort((a, b) => b.offset - a.offset).slice(0, Math.max(0, room));
    if (!fresh.length) return 0;
    fresh.forEach((e) => this.offsets.add(e.offset));
    this.events.push(...fresh);
    this.events.sort((a, b) => b.offset - a.offset);
    this.notify({newer: 0, older: fresh.length});
    return fresh.length;
  }

  trim() {
    while (this.events.length > this.max) {
      this.offsets.delete(this.events.pop().offset);
    }
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(change) {
    this.listeners.forEach((l) => l(change));
  }
}

// batch=true: each message carries every event the server had ready for us, one JSON object per line
function socketUrl(params) {
  const query = new URLSearchParams(params);
  query.set('batch', 'true');
  query.set('token', token.get() || '');
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/events?${query}`;
}

/**
 * Keeps one feed connection up. onEvents(batch) gets events in offset order (batched per animation
 * frame, so 1,000 events a second cost a few redraws); onState('live'|'connecting'|'offline', text).
 */
export class FeedClient {
  constructor({onEvents, onState}) {
    this.onEvents = onEvents;
    this.onState = onState;
    this.last = Number(sessionStorage.getItem(LAST_KEY)) || null;
    this.socket = null;
    this.retryMs = 1000;
    this.pending = [];
    this.flushing = false;
    this.stopped = false;
    this.silence = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.silence);
    if (this.socket) this.socket.close();
    this.onState('offline', 'stopped');
  }

  connect() {
    if (this.stopped) return;
    const params = {};
    if (this.last !== null) params.since = String(this.last);
    this.onState('connecting', this.last === null ? 'connecting' : `resuming after ${this.last}`);
    const ws = new WebSocket(socketUrl(params));
    this.socket = ws;
    ws.onopen = () => {
      this.retryMs = 1000;
      this.onState('live', 'live');
      this.watch();
    };
    ws.onmessage = (m) => {
      this.watch();
      for (const line of m.data.split('\n')) this.take(line);
    };
    ws.onclose = () => {
      clearTimeout(this.silence);
      if (this.socket !== ws) return;
      this.socket = null;
      if (this.stopped) return;
      this.onState('offline', `disconnected; retrying in ${Math.round(this.retryMs / 1000)} s`);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    };
  }

  /** One line of a feed message: an event, a ping or lagged. */
  take(line) {
    let message;
    try {
      message = JSON.parse(line);
    } catch (e) {
      return;
    }
    if (message.type === 'ping') return;
    if (message.type === 'lagged') {
      // the server closes us; the reconnect resumes from here and replays what we could not take
      this.remember(message.resumeFrom);
      this.onState('connecting', `fell behind; resuming after ${message.resumeFrom}`);
      return;
    }
    if (typeof message.offset !== 'number') return;
    if (this.last !== null && message.offset <= this.last) return;
    this.remember(message.offset);
    this.pending.push(message);
    this.schedule();
  }

  remember(offset) {
    this.last = offset;
    sessionStorage.setItem(LAST_KEY, String(offset));
  }

  watch() {
    clearTimeout(this.silence);
    const ws = this.socket;
    this.silence = setTimeout(() => ws && ws.close(), SILENCE_MS);
  }

  schedule() {
    if (this.flushing) return;
    this.flushing = true;
    const flush = () => {
      this.flushing = false;
      const batch = this.pending;
      this.pending = [];
      if (batch.length) this.onEvents(batch);
    };
    // a hidden tab gets no animation frames: flush on a timer then
    if (document.hidden) setTimeout(flush, 250);
    else requestAnimationFrame(flush);
  }
}

/**
 * Up to `want` events with offsets below `before` (null: the newest there are), read through a
 * one-off replay socket. Offsets are not contiguous, so it starts a window below and widens it.
 */
export function loadOlder(before, want = 200) {
  return new Promise((resolve) => {
    const found = [];
    const openedAt = Date.now();
    const since = before === null ? 0 : Math.max(0, before - want * 2);
    const ws = new WebSocket(socketUrl({since: String(since)}));
    let quiet = null;
    const done = () => {
      clearTimeout(quiet);
      ws.onmessage = null;
      ws.close();
      found.sort((a, b) => b.offset - a.offset);
      resolve({events: found.slice(0, want), reachedStart: since === 0});
    };
    const idle = () => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 800);
    };
    ws.onopen = idle;
    ws.onerror = done;
    ws.onmessage = (m) => {
      idle();
      for (const line of m.data.split('\n')) {
        const e = JSON.parse(line);
        if (typeof e.offset !== 'number') continue;
        // past the bound, or (with no bound) a live event: the replay is over
        if ((before !== null && e.offset >= before) || (before === null && Date.parse(e.ts) > openedAt)) return done();
        found.push(e);
        if (before === null && found.length > want * 5) found.splice(0, found.length - want);
      }
    };
  });
}

/** One line about an event, from the facts the feed sends (see docs/api.md). */
export function summary(e) {
  const d = e.data || {};
  const list = (xs, key) => (Array.isArray(xs) ? xs.map((x) => (key ? x?.[key] : x)).filter(Boolean) : []);
  const files = (xs) => {
    const names = list(xs, 'path');
    return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  };
  const by = d.by ? ` by ${d.by}` : '';
  switch (e.type) {
    case 'checkpoint.taken':
      return `checkpoint ${d.checkpoint} (${d.trigger}): ${d.filesChanged} file(s) +${d.linesAdded} −${d.linesRemoved}${d.files?.length ? ': ' + files(d.files) : ''}`;
    case 'validation.completed':
    case 'validation.fast_rules_checked':
      return `checkpoint ${d.checkpoint}: ${d.verdict}${d.violations?.length ? ' — ' + list(d.violations, 'message').slice(0, 2).join('; ') : ''}`;
    case 'watchdog.changes':
      return `changed ${files(d.files)}`;
    case 'watchdog.violation':
      return list(d.violations, 'message').join('; ');
    case 'feature.proposed':
      return `proposed checkpoint ${d.checkpoint}: ${d.description ?? ''}${by}`;
    case 'feature.unsandboxed':
      return `${d.agent ?? 'the agent'} runs WITHOUT a sandbox: ${d.reason ?? ''}`;
    case 'feature.sandboxed':
      return `${d.agent ?? 'the agent'} runs in the sandbox again`;
    case 'agent.connected':
      return `${d.agent ?? 'an agent'}${d.version ? ' ' + d.version : ''} connected`;
    case 'agent.disconnected':
      return `${d.agent ?? 'the agent'} disconnected: ${d.reason ?? ''}`;
    case 'agent.messaged':
      return `${d.by ?? 'a person'} wrote to the agent (${d.bytes} bytes)`;
    case 'feature.paused':
    case 'feature.abandoned':
    case 'feature.escalated':
      return `${d.reason ?? ''}${by}`;
    default: {
      const parts = [];
      for (const key of ['proposalId', 'reason', 'verdict', 'commit', 'description', 'text', 'answer']) {
        if (typeof d[key] === 'string' || typeof d[key] === 'number') parts.push(`${key === 'proposalId' ? '' : key + ' '}${d[key]}`);
      }
      // a type this page does not know yet: its first few plain facts rather than nothing
      if (!parts.length) {
        for (const [key, value] of Object.entries(d)) {
          if (key === 'by' || parts.length === 3) continue;
          if (['string', 'number', 'boolean'].includes(typeof value)) parts.push(`${key} ${String(value).slice(0, 80)}`);
        }
      }
      return parts.join(' · ') + by;
    }
  }
}
