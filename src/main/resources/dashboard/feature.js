// One feature: its status and plan, the agent connection with the log lines the daemon keeps, the
// checkpoint timeline (compare any two, read a verdict), violations, its proposals and its activity.

import {api, seg} from './api.js';
import {h, replace, pill, when, ago, approvalHref, limiter, unsandboxedBadge} from './dom.js';
import {renderDiff} from './diff.js';
import {state, onChange, summary} from './state.js';
import {testList} from './approvals.js';

const PAGE = 50;
const verdicts = limiter(3);

export function featureView(id) {
  const base = `/features/${seg(id)}`;
  const head = h('div', {class: 'feature-head'});
  const agentBox = h('div', {class: 'agent-box'});
  const proposalsBox = h('div');
  const timeline = h('tbody');
  const timelineNote = h('p', {class: 'muted'});
  const olderButton = h('button', {type: 'button', hidden: true}, 'Older checkpoints');
  const compareButton = h('button', {type: 'button', class: 'primary', id: 'compare'}, 'Compare');
  const compareOut = h('div', {class: 'compare-out'});
  const verdictOut = h('div', {class: 'verdict-out'});
  const violationsBox = h('div');
  const activity = h('ul', {class: 'live-list activity'});
  const el = h('section', {class: 'feature-page'},
    h('p', null, h('a', {href: '#/'}, '‹ All features')),
    head,
    h('div', {class: 'columns'},
      h('div', null,
        h('h2', null, 'Checkpoints'),
        timelineNote,
        h('p', {class: 'muted'}, 'Pick a "from" and a "to" checkpoint (0 is the base commit) and compare them; a verdict opens its details.'),
        h('table', {class: 'grid timeline'},
          h('thead', null, h('tr', null, ['from', 'to', '#', 'Taken', 'Trigger', 'Files', 'Lines', 'Verdict'].map((t) => h('th', null, t)))),
          timeline),
        h('div', {class: 'controls'}, olderButton, compareButton),
        verdictOut,
        compareOut),
      h('div', null,
        h('h2', null, 'Agent'), agentBox,
        h('h2', null, 'Violations'), violationsBox,
        h('h2', null, 'Proposals'), proposalsBox,
        h('h2', null, 'Activity'), activity)));

  const rows = new Map(); // seq → {tr, verdictCell}
  let loadedFrom = null; // lowest checkpoint seq on screen
  let total = 0;

  const drawHead = () => {
    const f = state.features.get(id);
    if (!f) return;
    replace(head,
      h('h1', null, f.id, ' ', h('span', {class: 'feature-status'}, pill(f.status)),
        f.unsandboxed ? [' ', unsandboxedBadge(f)] : null),
      f.statusReason ? h('p', {class: 'note'}, f.statusReason) : null,
      f.unsandboxed ? h('p', {class: 'note unsandboxed-note'}, h('strong', null, 'The agent runs without a sandbox'),
        ` (${f.lastRun?.reason ?? 'no reason given'}, since ${ago(f.lastRun?.at)}): it can write outside its worktree, move branches`
        + ' and read Warden\'s tokens. Review its work accordingly.') : null,
      h('dl', {class: 'facts-grid'},
        h('dt', null, 'Repository'), h('dd', null, h('code', null, f.repo)),
        h('dt', null, 'Target'), h('dd', null, h('code', null, f.target), ' from ', h('code', null, f.branch),
          ' at ', h('code', {title: f.baseCommit}, (f.baseCommit || '').slice(0, 12))),
        h('dt', null, 'Worktree'), h('dd', null, h('code', null, f.worktree)),
        h('dt', null, 'Created'), h('dd', null, `${when(f.createdAt)} by ${f.createdBy}; updated ${ago(f.updatedAt)}`),
        h('dt', null, 'Plan'), h('dd', null, `version ${f.plan.version}; allowed `, h('code', null, f.plan.allowedPaths.join(' ')),
          f.plan.forbiddenPaths.length ? [', forbidden ', h('code', null, f.plan.forbiddenPaths.join(' '))] : null,
          `; at most ${f.plan.limits.maxChangedLines} changed lines`)),
      f.openQuestions && f.openQuestions.length ? h('div', {class: 'note'}, h('strong', null, 'The agent asks: '),
        h('ul', null, f.openQuestions.map((q) => h('li', null, h('code', null, q.id ?? q.questionId ?? ''), ' ', q.text)))) : null,
      f.proposal ? h('p', null, h('strong', null, 'Proposed: '), f.proposal.description,
        ` (checkpoint ${f.proposal.checkpoint}, by ${f.proposal.proposedBy} ${ago(f.proposal.at)})`) : null);
  };

  const drawAgent = async () => {
    try {
      const a = await api.json(`${base}/agent`);
      replace(agentBox,
        h('p', null, pill(a.connected ? 'connected' : 'disconnected'), ' ',
          a.agent ? `${a.agent} ${a.version ?? ''}` : 'no agent has said hello', a.paused ? ' · paused' : '',
          a.lastSeen ? ` · last seen ${ago(a.lastSeen)}` : ''),
        h('p', {class: 'muted'}, `Its last ${a.recentLog.length} output line(s), as the daemon keeps them in memory (not stored; gone after a restart):`),
        a.recentLog.length ? h('pre', {class: 'output log'}, a.recentLog.join('\n')) : h('p', {class: 'muted'}, 'No output lines.'));
    } catch (e) {
      replace(agentBox, h('p', {class: 'error'}, e.message));
    }
  };

  const checkpointRow = (c) => {
    const verdictCell = h('td', {class: 'verdict'}, '…');
    const tr = h('tr', {dataset: {seq: c.seq}},
      h('td', null, h('input', {type: 'radio', name: 'from', value: c.seq, 'aria-label': `from ${c.seq}`})),
      h('td', null, h('input', {type: 'radio', name: 'to', value: c.seq, 'aria-label': `to ${c.seq}`})),
      h('td', null, c.seq),
      h('td', {title: c.takenAt}, when(c.takenAt)),
      h('td', null, c.trigger, c.quiesced ? '' : h('span', {class: 'warn', title: c.quiesceNote || 'the agent did not acknowledge the pause'}, ' (unquiesced)')),
      h('td', null, c.filesChanged, h('span', {class: 'muted'}, ` (${c.filesChangedSinceBase} since base)`)),
      h('td', null, h('span', {class: 'added'}, `+${c.linesAdded}`), ' ', h('span', {class: 'removed'}, `−${c.linesRemoved}`)),
      verdictCell);
    rows.set(c.seq, {tr, verdictCell});
    loadVerdict(c.seq);
    return tr;
  };

  const loadVerdict = (seq) => verdicts(async () => {
    const row = rows.get(seq);
    if (!row) return;
    try {
      const v = await api.json(`${base}/checkpoints/${seq}/validation`);
      replace(row.verdictCell, h('button', {type: 'button', class: 'link', onclick: () => showVerdict(v)}, pill(v.status)));
    } catch (e) {
      replace(row.verdictCell, e.status === 404 ? pill('pending', 'not validated yet') : h('span', {class: 'error'}, e.message));
    }
  });

  const showVerdict = (v) => {
    replace(verdictOut, h('div', {class: 'card'},
      h('h3', null, `Verdict of checkpoint ${v.seq}: `, pill(v.status), h('button', {type: 'button', class: 'quiet', onclick: () => replace(verdictOut)}, '×')),
      h('p', {class: 'muted'}, `fast rules ${v.fastRules} · plan version ${v.planVersion}`, v.failure ? ` · ${v.failure}` : ''),
      v.violations.length ? h('ul', {class: 'violations'}, v.violations.map(violation)) : h('p', {class: 'muted'}, 'No violations.'),
      v.unchecked.length ? h('div', null, h('strong', null, 'Not checked'), h('ul', null, v.unchecked.map((u) => h('li', null, u)))) : null,
      v.checks.length ? testList(v.checks) : null));
  };

  const loadCheckpoints = async (before) => {
    try {
      if (before === undefined) {
        total = (await api.json(`${base}/checkpoints?offset=0&limit=0`)).total;
        before = total;
      }
      const from = Math.max(0, before - PAGE);
      const page = await api.json(`${base}/checkpoints?offset=${from}&limit=${before - from}`);
      total = page.total;
      const fresh = page.checkpoints.slice().reverse().filter((c) => !rows.has(c.seq)).map(checkpointRow);
      const baseRow = timeline.querySelector('tr[data-seq="0"]');
      fresh.forEach((tr) => timeline.insertBefore(tr, baseRow));
      loadedFrom = from;
      if (from === 0 && !baseRow) {
        timeline.appendChild(h('tr', {dataset: {seq: 0}},
          h('td', null, h('input', {type: 'radio', name: 'from', value: 0, checked: true, 'aria-label': 'from base'})),
          h('td', null), h('td', null, 0), h('td', {colspan: 5, class: 'muted'}, 'the base commit')));
      }
      olderButton.hidden = from === 0;
      timelineNote.textContent = `${total} checkpoint(s); ${rows.size} shown.`;
      const to = timeline.querySelector('input[name="to"]');
      if (to && !timeline.querySelector('input[name="to"]:checked')) to.checked = true;
    } catch (e) {
      timelineNote.textContent = e.message;
    }
  };

  /** A checkpoint the feed announced: on top of the timeline without reading the page again. */
  const checkpointTaken = async (seq) => {
    if (rows.has(seq)) return;
    try {
      const page = await api.json(`${base}/checkpoints?offset=${seq - 1}&limit=1`);
      const c = page.checkpoints[0];
      if (c && !rows.has(c.seq)) {
        total = page.total;
        timeline.insertBefore(checkpointRow(c), timeline.firstChild);
        timelineNote.textContent = `${total} checkpoint(s); ${rows.size} shown.`;
      }
    } catch (e) {
      // the next event or a revisit shows it
    }
  };

  compareButton.addEventListener('click', async () => {
    const from = timeline.querySelector('input[name="from"]:checked');
    const to = timeline.querySelector('input[name="to"]:checked');
    if (!from || !to) {
      replace(compareOut, h('p', {class: 'error'}, 'Pick a "from" and a "to" checkpoint.'));
      return;
    }
    replace(compareOut, h('p', {class: 'muted'}, 'Comparing…'));
    try {
      const c = await api.json(`${base}/checkpoints/compare?from=${seg(from.value)}&to=${seg(to.value)}`);
      replace(compareOut, h('h3', null, `Checkpoint ${c.from} → ${c.to}`), renderDiff(c.diff));
    } catch (e) {
      replace(compareOut, h('p', {class: 'error'}, e.message));
    }
  });
  olderButton.addEventListener('click', () => loadCheckpoints(loadedFrom));

  const drawViolations = async () => {
    try {
      const log = await api.json(`${base}/changes?since=0&limit=1000`);
      const found = log.entries.filter((e) => e.type === 'violations').flatMap((e) => e.violations.map((v) => ({...v, at: e.at})));
      const latest = [...rows.keys()].sort((a, b) => b - a)[0];
      let verdict = null;
      if (latest) verdict = await api.json(`${base}/checkpoints/${latest}/validation`).catch(() => null);
      replace(violationsBox,
        verdict ? h('div', null, h('p', null, `Latest checkpoint (${verdict.seq}): `, pill(verdict.status)),
          verdict.violations.length ? h('ul', {class: 'violations'}, verdict.violations.map(violation)) : null) : null,
        found.length ? [h('p', {class: 'muted'}, `Flagged by the watchdog as files changed (${found.length}, newest first):`),
          h('ul', {class: 'violations'}, found.reverse().slice(0, 50).map((v) => violation(v, v.at)))]
          : h('p', {class: 'muted'}, 'The watchdog flagged nothing.'));
    } catch (e) {
      replace(violationsBox, h('p', {class: 'error'}, e.message));
    }
  };

  const drawProposals = async () => {
    try {
      const list = await api.json('/approvals');
      const mine = list.approvals.filter((p) => p.feature === id);
      replace(proposalsBox, mine.length ? h('ul', null, mine.map((p) => h('li', null,
        h('a', {href: approvalHref(p.id)}, p.id), ' ', pill(p.status), ' ', pill(p.tier), ' ', p.description)))
        : h('p', {class: 'muted'}, 'None.'));
    } catch (e) {
      replace(proposalsBox, h('p', {class: 'error'}, e.message));
    }
  };

  const drawActivity = () => {
    const mine = state.feed.events.filter((e) => e.feature === id).slice(0, 100);
    replace(activity, mine.length ? mine.map((e) => h('li', {class: 'feed-row', dataset: {type: e.type}},
      h('time', {title: e.ts}, when(e.ts)), ' ', h('span', {class: 'event-type'}, e.type), ' ', h('span', {class: 'event-summary'}, summary(e))))
      : h('li', {class: 'muted'}, 'No activity seen since this page was opened.'));
  };

  const off = onChange((change) => {
    if (change.features.has(id) && !change.extras) {
      drawHead();
      drawAgent();
    }
    if (change.proposals.size && [...change.proposals].some((p) => state.proposals.get(p)?.feature === id)) drawProposals();
    if (change.events) {
      const mine = change.events.filter((e) => e.feature === id);
      if (!mine.length) return;
      drawActivity();
      for (const e of mine) {
        if (e.type === 'checkpoint.taken') checkpointTaken(e.data.checkpoint);
        if (e.type === 'validation.completed' && rows.has(e.data.checkpoint)) loadVerdict(e.data.checkpoint);
        if (e.type.startsWith('watchdog.violation') || e.type === 'validation.completed') drawViolations();
      }
    }
  });

  if (!state.features.has(id)) {
    api.json(base).then((f) => { state.features.set(id, f); drawHead(); }, (e) => replace(head, h('h1', null, id), h('p', {class: 'error'}, e.message)));
  }
  drawHead();
  drawAgent();
  loadCheckpoints().then(drawViolations);
  drawProposals();
  drawActivity();
  return {el, dispose: off};
}

function violation(v, at) {
  return h('li', null, pill(v.severity), ' ', h('code', null, v.rule), ' ', h('code', {class: 'file-name'}, v.path), ': ', v.message,
    at ? h('span', {class: 'muted'}, ` · ${when(at)}`) : null);
}
