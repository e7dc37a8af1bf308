// One feature: its status and plan, the agent connection with the log lines the daemon keeps, the
// checkpoint timeline (compare any two, read a verdict), violations, its proposals and its activity.

import {api, seg} from './api.js';
import {h, replace, pill, when, ago, approvalHref, limiter, unsandboxedBadge} from './dom.js';
import {renderDiff} from './diff.js';
import {state, onChange, summary} from './state.js';
import {testList} from './approvals.js';
import {action, actions, guard} from './controls.js';

const ENDED = ['applied', 'rejected', 'failed', 'abandoned'];

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

  // ---- the operator's controls: made once (typed text survives redraws), re-guarded on every change ----
  const reason = h('input', {type: 'text', id: 'op-reason', class: 'reason', placeholder: 'Reason (for pause; required to abandon)', 'aria-label': 'Reason',
    dataset: {label: 'Reason'}});
  const pauseButton = action('Pause', 'agent', {id: 'op-pause'});
  const resumeButton = action('Resume', 'agent', {id: 'op-resume', class: 'primary'});
  const checkpointButton = action('Checkpoint now', 'agent', {id: 'op-checkpoint'});
  const abandonButton = action('Abandon…', 'approver', {id: 'op-abandon', class: 'danger'});
  const opError = h('p', {class: 'error', role: 'alert', id: 'op-error'});
  const opOutcome = h('p', {class: 'outcome', id: 'op-outcome'});
  const ops = actions({class: 'feature-ops', id: 'feature-ops'}, reason, pauseButton, resumeButton, checkpointButton, abandonButton);
  const questionsBox = h('div', {class: 'questions', id: 'questions'});
  const rollbackTo = h('input', {type: 'number', min: 0, id: 'rollback-to', 'aria-label': 'Roll back to checkpoint', dataset: {label: 'Checkpoint'}});
  const rollbackPaths = h('input', {type: 'text', id: 'rollback-paths', placeholder: 'Paths, comma-separated (empty: all)', 'aria-label': 'Paths',
    dataset: {label: 'Paths'}});
  const rollbackButton = action('Roll back', 'agent', {id: 'rollback', class: 'danger'});
  const smartButton = action('Smart rollback', 'agent', {id: 'rollback-smart', title: 'undo the files of the latest violations'});
  const rollbackError = h('p', {class: 'error', role: 'alert', id: 'rollback-error'});
  const rollbackOutcome = h('p', {class: 'outcome', id: 'rollback-outcome'});
  const rollbackBar = actions({class: 'rollback-bar', id: 'rollback-bar'}, 'Roll back to', rollbackTo, rollbackPaths, rollbackButton, smartButton);

  const el = h('section', {class: 'feature-page'},
    h('p', null, h('a', {href: '#/'}, '‹ All features')),
    head,
    questionsBox,
    ops, opError, opOutcome,
    h('div', {class: 'columns'},
      h('div', null,
        h('h2', null, 'Checkpoints'),
        timelineNote,
        h('p', {class: 'muted'}, 'Pick a "from" and a "to" checkpoint (0 is the base commit) and compare them; a verdict opens its details.'),
        h('table', {class: 'grid timeline'},
          h('thead', null, h('tr', null, ['from', 'to', '#', 'Taken', 'Trigger', 'Files', 'Lines', 'Verdict'].map((t) => h('th', null, t)))),
          timeline),
        h('div', {class: 'controls'}, olderButton, compareButton),
        h('p', {class: 'muted'}, 'Roll back makes the worktree equal to a checkpoint again (all files, or only the paths given); smart picks the'
          + ' checkpoint and the paths from the latest violations. Either is recorded as a new checkpoint.'),
        rollbackBar, rollbackError, rollbackOutcome,
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

  const guardControls = () => {
    const f = state.features.get(id);
    const status = f?.status;
    const ended = status && ENDED.includes(status) ? `the feature has ended (${status})` : null;
    guard(reason, 'agent', ended);
    guard(pauseButton, 'agent', ended || (status === 'paused' ? 'it is already paused' : status === 'proposed' ? 'it is proposed' : null));
    guard(resumeButton, 'agent', ended || (status === 'awaiting_input' ? 'it waits for an answer to its question: answer it instead'
      : status === 'active' ? 'it is running' : status === 'proposed' ? 'it is proposed' : null));
    guard(checkpointButton, 'agent', ended);
    guard(abandonButton, 'approver', ended);
    [rollbackTo, rollbackPaths, rollbackButton, smartButton].forEach((c) => guard(c, 'agent', ended));
    ops.explain();
    rollbackBar.explain();
  };

  const run = async (button, slot, outcome, work) => {
    replace(slot);
    replace(outcome);
    button.disabled = true;
    try {
      const text = await work();
      if (text) replace(outcome, text);
    } catch (e) {
      replace(slot, e.message);
    } finally {
      guardControls();
    }
  };
  const changed = (f) => {
    state.features.set(f.id, f);
    drawHead();
    guardControls();
  };
  const reasonBody = () => (reason.value.trim() ? {reason: reason.value.trim()} : {});
  pauseButton.addEventListener('click', () => run(pauseButton, opError, opOutcome, async () => {
    changed(await api.post(`${base}/pause`, reasonBody()));
    reason.value = '';
    return 'Paused.';
  }));
  resumeButton.addEventListener('click', () => run(resumeButton, opError, opOutcome, async () => {
    changed(await api.post(`${base}/resume`, {}));
    return 'Resumed.';
  }));
  checkpointButton.addEventListener('click', () => run(checkpointButton, opError, opOutcome, async () => {
    const c = await api.post(`${base}/checkpoint`, {});
    return `Checkpoint ${c.seq} taken (${c.filesChanged} file(s) changed).`;
  }));
  abandonButton.addEventListener('click', () => run(abandonButton, opError, opOutcome, async () => {
    const text = reason.value.trim();
    if (!text) {
      reason.focus();
      throw new Error('Give a reason to abandon: it is recorded, and the worktree and branch are removed.');
    }
    if (!window.confirm(`Abandon ${id}? Its worktree and branch are removed (the checkpoints stay).`)) return null;
    changed(await api.del(base, {reason: text}));
    reason.value = '';
    return 'Abandoned.';
  }));
  rollbackButton.addEventListener('click', () => run(rollbackButton, rollbackError, rollbackOutcome, async () => {
    if (rollbackTo.value === '') {
      rollbackTo.focus();
      throw new Error('Pick the checkpoint to go back to (0 is the base commit).');
    }
    const paths = rollbackPaths.value.split(',').map((p) => p.trim()).filter(Boolean);
    const c = await api.post(`${base}/rollback`, paths.length ? {to: Number(rollbackTo.value), paths} : {to: Number(rollbackTo.value)});
    return `Rolled back to checkpoint ${rollbackTo.value}${paths.length ? ` (${paths.join(', ')})` : ''}: recorded as checkpoint ${c.seq}.`;
  }));
  smartButton.addEventListener('click', () => run(smartButton, rollbackError, rollbackOutcome, async () => {
    const c = await api.post(`${base}/rollback`, {strategy: 'smart'});
    return `Smart rollback recorded as checkpoint ${c.seq}.`;
  }));

  // the timeline's "to" choice is also the checkpoint to roll back to
  timeline.addEventListener('change', (event) => {
    if (event.target.name === 'to') rollbackTo.value = event.target.value;
  });

  // open questions: one answer box each, kept while the same questions are open (typed text survives)
  let questionsKey = null;
  const drawQuestions = () => {
    const f = state.features.get(id);
    const open = f?.openQuestions || [];
    const key = `${f?.status}:${open.map((q) => q.id).join(' ')}`;
    if (key === questionsKey) return;
    questionsKey = key;
    questionsBox.className = `questions${f?.status === 'awaiting_input' ? ' awaiting' : ''}`;
    if (!open.length) return replace(questionsBox);
    replace(questionsBox,
      h('h2', null, f.status === 'awaiting_input' ? 'Awaiting your answer: the agent asks' : 'The agent asks'),
      open.map((q) => {
        const answer = h('textarea', {rows: 2, class: 'answer-text', 'aria-label': `Answer to ${q.id}`, dataset: {label: 'Answer'}});
        const send = action('Answer', 'approver', {class: 'primary answer'});
        guard(answer, 'approver');
        const error = h('p', {class: 'error', role: 'alert'});
        const bar = actions(null, answer, send);
        send.addEventListener('click', async () => {
          replace(error);
          if (!answer.value.trim()) {
            replace(error, 'Write an answer first.');
            return;
          }
          send.disabled = true;
          try {
            const updated = await api.post(`${base}/questions/${seg(q.id)}/answer`, {text: answer.value});
            changed(updated);
            drawQuestions();
          } catch (e) {
            replace(error, e.message);
            guard(send, 'approver');
          }
        });
        return h('div', {class: 'question', dataset: {id: q.id}},
          h('p', {class: 'question-text'}, q.text, h('span', {class: 'muted'}, ` · ${q.id}, asked ${ago(q.askedAt)}`)),
          bar, error);
      }));
  };

  const drawHead = () => {
    drawQuestions();
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
      guardControls();
      drawAgent();
    }
    if (change.proposals.size && [...change.proposals].some((p) => state.proposals.get(p)?.feature === id)) drawProposals();
    if (change.events) {
      const mine = change.events.filter((e) => e.feature === id);
      if (!mine.length) return;
      drawActivity();
      for (const e of mine) {
        if (e.type === 'checkpoint.taken') checkpointTaken(e.data.checkpoint);
        if (e.type === 'agent.connected' || e.type === 'agent.disconnected') drawAgent();
        if (e.type === 'validation.completed' && rows.has(e.data.checkpoint)) loadVerdict(e.data.checkpoint);
        if (e.type.startsWith('watchdog.violation') || e.type === 'validation.completed') drawViolations();
      }
    }
  });

  if (!state.features.has(id)) {
    api.json(base).then((f) => { state.features.set(id, f); drawHead(); guardControls(); }, (e) => replace(head, h('h1', null, id), h('p', {class: 'error'}, e.message)));
  }
  drawHead();
  guardControls();
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
