// What the dashboard knows, kept current from the feed: each event re-reads only what it touches
// (its feature, the approval queue, one proposal), coalesced so a burst costs one request each.

import {api, seg} from './api.js';
import {FeedStore, summary} from './feed.js';
import {limiter} from './dom.js';

export const state = {
  features: new Map(), // id → feature JSON
  extras: new Map(), // id → {agent, checkpoint, verdict, loading}
  pending: [], // proposals with status "proposed", newest first
  proposals: new Map(), // id → proposal JSON, every one read during this visit
  feed: new FeedStore(),
};

const listeners = new Set();

/** A view hears {features: Set<id>, proposals: Set<id>, queue: bool, events: [..]} after each change. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(change) {
  listeners.forEach((l) => l(change));
}

export const throttle = limiter(4);

export async function loadFeatures() {
  const list = await api.json('/features');
  state.features = new Map(list.features.map((f) => [f.id, f]));
  emit({features: new Set(state.features.keys()), proposals: new Set(), queue: false, all: true});
}

export async function loadQueue() {
  const list = await api.json('/approvals?status=proposed');
  state.pending = list.approvals;
  list.approvals.forEach((p) => state.proposals.set(p.id, p));
  emit({features: new Set(), proposals: new Set(list.approvals.map((p) => p.id)), queue: true});
}

/** Agent connection, last checkpoint and its verdict of one feature (three small reads). */
export function loadExtras(id, {force = false} = {}) {
  const known = state.extras.get(id);
  if (known && (known.loading || (!force && known.loadedAt))) return known.loading || Promise.resolve(known);
  const entry = known || {};
  entry.loading = throttle(async () => {
    const base = `/features/${seg(id)}`;
    const [agent, page] = await Promise.all([
      api.json(`${base}/agent`).catch(() => null),
      api.json(`${base}/checkpoints?offset=0&limit=0`).catch(() => null),
    ]);
    entry.agent = agent;
    if (page && page.total > 0) {
      const latest = await api.json(`${base}/checkpoints?offset=${page.total - 1}&limit=1`).catch(() => null);
      const checkpoint = latest?.checkpoints?.[0];
      if (checkpoint) {
        entry.checkpoint = {seq: checkpoint.seq, takenAt: checkpoint.takenAt};
        const verdict = await api.json(`${base}/checkpoints/${checkpoint.seq}/validation`).catch(() => null);
        entry.verdict = verdict ? verdict.status : 'pending';
      }
    } else if (page) {
      entry.checkpoint = null;
      entry.verdict = null;
    }
    entry.loadedAt = Date.now();
    return entry;
  }).finally(() => {
    entry.loading = null;
    emit({features: new Set([id]), proposals: new Set(), queue: false, extras: true});
  });
  state.extras.set(id, entry);
  return entry.loading;
}

// ---- live: what each feed event makes stale ----

const dirty = {features: new Set(), proposals: new Set(), queue: false, timer: null};

function markDirty() {
  if (dirty.timer) return;
  dirty.timer = setTimeout(refreshDirty, 250);
}

async function refreshDirty() {
  const features = [...dirty.features];
  const proposals = [...dirty.proposals];
  const queue = dirty.queue;
  dirty.features.clear();
  dirty.proposals.clear();
  dirty.queue = false;
  dirty.timer = null;
  await Promise.all([
    ...features.map((id) => throttle(() => api.json(`/features/${seg(id)}`)).then((f) => state.features.set(id, f), () => {})),
    ...proposals.map((id) => throttle(() => api.json(`/approvals/${seg(id)}`)).then((p) => state.proposals.set(id, p), () => {})),
    queue ? api.json('/approvals?status=proposed').then((list) => {
      state.pending = list.approvals;
      list.approvals.forEach((p) => state.proposals.set(p.id, p));
    }, () => {}) : null,
  ]);
  emit({features: new Set(features), proposals: new Set(proposals), queue});
}

/** A batch of feed events arrived (offset order). */
export function eventsArrived(batch) {
  state.feed.addNewer(batch);
  for (const e of batch) {
    const d = e.data || {};
    if (e.feature) {
      dirty.features.add(e.feature);
      const extras = state.extras.get(e.feature);
      if (extras && e.type === 'checkpoint.taken') {
        extras.checkpoint = {seq: d.checkpoint, takenAt: e.ts};
        extras.verdict = 'running';
      }
      if (extras && e.type === 'validation.completed' && extras.checkpoint?.seq === d.checkpoint) {
        extras.verdict = d.verdict;
      }
      if (e.type === 'agent.connected' || e.type === 'agent.disconnected') {
        // the Agent column follows the feed (no polling): shown at once, then re-read with the feature
        const connected = e.type === 'agent.connected';
        if (extras) extras.agent = {...(extras.agent || {}), connected, agent: d.agent, version: connected ? d.version : extras.agent?.version};
      }
    }
    if (typeof d.proposalId === 'string') dirty.proposals.add(d.proposalId);
    if (e.type.startsWith('proposal.') || e.type.startsWith('approval.') || e.type.startsWith('apply.')
        || e.type === 'feature.proposed' || typeof d.proposalId === 'string') {
      dirty.queue = true;
    }
  }
  markDirty();
  emit({features: new Set(), proposals: new Set(), queue: false, events: batch});
}

/** A proposal as an approve/reject answered it: shown at once, before the feed confirms it. */
export function proposalChanged(proposal) {
  state.proposals.set(proposal.id, proposal);
  if (proposal.status !== 'proposed') state.pending = state.pending.filter((p) => p.id !== proposal.id);
  dirty.queue = true;
  dirty.features.add(proposal.feature);
  markDirty();
  emit({features: new Set(), proposals: new Set([proposal.id]), queue: true});
}

export {summary};
