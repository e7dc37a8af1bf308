// The approval queue: every proposal waiting for a person (and those decided while this page is
// open, so the decision's outcome stays in sight), with tier, validation, tests, a readable diff and
// Approve / Reject. What the API refuses (403 for a viewer token, 409 for a decided or stale
// proposal, 400 for a missing reason) is shown on the card.

import {api, seg} from './api.js';
import {h, replace, pill, when, ago, featureHref, approvalHref} from './dom.js';
import {renderDiff} from './diff.js';
import {state, loadQueue, onChange, proposalChanged} from './state.js';
import {action, actions, guard} from './controls.js';

export function approvalsView(focus) {
  const list = h('div', {class: 'approval-list', id: 'approval-list'});
  const note = h('p', {class: 'muted'});
  const el = h('section', {class: 'approvals'},
    h('h1', null, 'Approvals'),
    note,
    list);
  const cards = new Map(); // id → {el, update(proposal)}

  const draw = () => {
    const ids = state.pending.map((p) => p.id);
    cards.forEach((_, id) => { if (!ids.includes(id)) ids.push(id); }); // decided here: keep showing
    if (focus && !ids.includes(focus)) ids.unshift(focus);
    for (const id of ids) {
      const proposal = state.proposals.get(id);
      if (!cards.has(id)) {
        const card = approvalCard(id, proposal);
        cards.set(id, card);
      } else if (proposal) {
        cards.get(id).update(proposal);
      }
    }
    // move only what is out of place: a card taken out of the page would lose the focus of a reason being typed
    list.querySelectorAll(':scope > .empty').forEach((e) => e.remove());
    ids.forEach((id, i) => {
      const card = cards.get(id).el;
      if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
    });
    if (!ids.length) list.appendChild(h('p', {class: 'empty'}, 'Nothing is waiting for a decision.'));
    note.textContent = `${state.pending.length} waiting for a decision. Newest first; a proposal decided here stays until you leave this page.`;
  };

  const off = onChange((change) => {
    if (change.queue) return draw();
    change.proposals.forEach((id) => {
      const card = cards.get(id);
      const proposal = state.proposals.get(id);
      if (card && proposal) card.update(proposal);
    });
  });
  if (focus && !state.proposals.has(focus)) {
    api.json(`/approvals/${seg(focus)}`).then((p) => { state.proposals.set(p.id, p); draw(); }, (e) => {
      replace(list, h('p', {class: 'error'}, e.message));
    });
  }
  loadQueue().catch(() => {});
  draw();
  return {el, dispose: off};
}

function approvalCard(id, initial) {
  const head = h('header');
  const facts = h('div', {class: 'facts'});
  const checks = h('div', {class: 'checks'});
  const trail = h('div', {class: 'decisions'});
  const error = h('p', {class: 'error', role: 'alert'});
  const done = h('p', {class: 'outcome'});
  const diffSlot = h('div', {class: 'diff-slot'});
  const reason = h('input', {type: 'text', class: 'reason', placeholder: 'Reason (required to reject and to bypass)', 'aria-label': 'Reason',
    dataset: {label: 'Reason'}});
  const approve = action('Approve', 'approver', {class: 'approve primary'});
  const reject = action('Reject', 'approver', {class: 'reject danger'});
  const bypass = h('input', {type: 'checkbox', class: 'bypass', 'aria-label': 'Bypass the tier (admin)', dataset: {label: 'Bypass'}});
  const bypassLabel = h('label', {class: 'bypass-label', title: 'approve at once whatever the tier requires; needs a reason, recorded as a bypass'},
    bypass, ' bypass the tier (admin)');
  const land = action('Land now', 'approver', {class: 'land primary'});
  const diffButton = h('button', {type: 'button', class: 'show-diff'}, 'Show diff');
  const bar = actions(null, diffButton, reason, bypassLabel, approve, reject, land);
  const el = h('article', {class: 'approval', dataset: {id}},
    head, facts, checks, trail,
    bar,
    error, done, diffSlot);
  let proposal = initial;
  let verdictLoaded = false;

  const decide = async (action) => {
    error.textContent = '';
    const text = reason.value.trim();
    approve.disabled = reject.disabled = true;
    try {
      const body = text ? {reason: text} : {};
      if (action === 'approve' && bypass.checked) {
        if (!text) {
          reason.focus();
          throw new Error('A bypass needs a reason: it is recorded with the decision.');
        }
        body.bypass = true;
      }
      const answer = await api.post(`/approvals/${seg(id)}/${action}`, body);
      done.textContent = action === 'reject' ? 'You rejected it.'
        : `You approved it (${answer.approvals.received} of ${answer.approvals.required} approval(s))`
          + (answer.approved ? '; Warden now tests the merge and lands it.' : '; it waits for more.');
      reason.value = '';
      proposalChanged(answer);
    } catch (e) {
      error.textContent = e.message;
      update(proposal);
    }
  };
  land.addEventListener('click', async () => {
    error.textContent = '';
    land.disabled = true;
    try {
      const answer = await api.post(`/approvals/${seg(id)}/land`, {});
      done.textContent = answer.status === 'applied' ? 'Landed.' : `Asked to land now${answer.note ? `: ${answer.note}` : '.'}`;
      proposalChanged(answer);
    } catch (e) {
      error.textContent = e.message;
      update(proposal);
    }
  });
  approve.addEventListener('click', () => decide('approve'));
  reject.addEventListener('click', () => decide('reject'));

  let diffShown = false;
  diffButton.addEventListener('click', async () => {
    if (diffShown) {
      replace(diffSlot);
      diffShown = false;
      diffButton.textContent = 'Show diff';
      return;
    }
    diffButton.disabled = true;
    replace(diffSlot, h('p', {class: 'muted'}, 'Loading the diff…'));
    try {
      const text = await api.text(`/approvals/${seg(id)}/diff`);
      replace(diffSlot, renderDiff(text));
      diffShown = true;
      diffButton.textContent = 'Hide diff';
    } catch (e) {
      replace(diffSlot, h('p', {class: 'error'}, e.message));
    } finally {
      diffButton.disabled = false;
    }
  });

  const update = (p) => {
    proposal = p;
    if (!p) {
      replace(head, h('code', null, id), ' loading…');
      return;
    }
    el.dataset.status = p.status;
    replace(head,
      h('div', {class: 'title'},
        h('a', {href: approvalHref(p.id), class: 'proposal-id'}, p.id), ' ',
        h('span', {class: 'proposal-status'}, pill(p.status)), ' ',
        h('span', {class: 'tier', title: 'tier'}, pill(p.tier)), ' ',
        h('span', {class: 'muted'}, `approvals ${p.approvals.received}/${p.approvals.required}`)),
      h('p', {class: 'description'}, p.description),
      h('p', {class: 'muted'}, 'Feature ', h('a', {href: featureHref(p.feature), class: 'feature-link'}, p.feature),
        ` · checkpoint ${p.checkpoint.seq} → ${p.target} · proposed by ${p.proposedBy} ${ago(p.proposedAt)}`,
        p.reviewEndsAt && p.status === 'proposed' ? ` · applies by policy at ${when(p.reviewEndsAt)} unless rejected` : '',
        p.status === 'proposed' ? ` · expires ${when(p.expiresAt)}` : ''));
    replace(facts,
      h('div', null, h('strong', null, 'Changes '), `${p.changes.files} file(s), `,
        h('span', {class: 'added'}, `+${p.changes.linesAdded}`), ' ', h('span', {class: 'removed'}, `−${p.changes.linesDeleted}`),
        h('ul', {class: 'paths'}, p.changes.paths.slice(0, 50).map((c) => h('li', null,
          h('code', {class: 'file-name'}, c.path), ' ', h('span', {class: 'added'}, `+${c.added}`), ' ',
          h('span', {class: 'removed'}, `−${c.deleted}`), ' ', pill(c.tier, 'tier of this path')))),
        p.changes.paths.length > 50 ? h('p', {class: 'muted'}, `and ${p.changes.paths.length - 50} more (see the diff)`) : null),
      h('div', null, h('strong', null, 'Validation '), pill(p.validation.status),
        p.validation.violations.length ? h('ul', {class: 'violations'}, p.validation.violations.map((v) => h('li', null,
          pill(v.severity), ' ', h('code', null, v.rule), ' ', h('code', {class: 'file-name'}, v.path), ': ', v.message))) : null),
      p.note ? h('p', {class: 'note proposal-note'}, p.status === 'approved' ? h('strong', null, 'Why it waits: ') : null, p.note) : null,
      p.apply && p.apply.error ? h('p', {class: 'error'}, `Apply: ${p.apply.error}`,
        p.apply.conflicts.length ? ` (conflicts: ${p.apply.conflicts.join(', ')})` : '') : null,
      p.apply && p.apply.commit ? h('p', null, 'Landed as ', h('code', null, p.apply.commit.slice(0, 12)), ` ${ago(p.apply.at)}`) : null,
      p.tests.length ? h('div', null, h('strong', null, 'Tests on the merge '), testList(p.tests)) : null);
    replace(trail, p.decisions.length ? [h('strong', null, 'Decisions '), h('ul', null, p.decisions.map((d) => h('li', null,
      `${d.decision} by ${d.by}${d.role ? ` (${d.role})` : ''}${d.reason ? ': ' + d.reason : ''} · ${when(d.at)}`)))] : null);
    const open = p.status === 'proposed';
    const closed = open ? null : `it is ${p.status}`;
    guard(approve, 'approver', closed);
    guard(reject, 'approver', closed);
    guard(reason, 'approver', closed);
    guard(bypass, 'admin', closed);
    guard(land, 'approver', p.status === 'approved' ? null : 'only an approved proposal lands');
    approve.hidden = reject.hidden = reason.hidden = bypassLabel.hidden = !open;
    land.hidden = p.status !== 'approved';
    bar.explain();
    if (!verdictLoaded) {
      verdictLoaded = true;
      api.json(`/features/${seg(p.feature)}/checkpoints/${p.checkpoint.seq}/validation`).then((verdict) => {
        replace(checks, verdict.checks.length ? [h('strong', null, `Checks and test of checkpoint ${verdict.seq} `), testList(verdict.checks)]
          : h('p', {class: 'muted'}, 'The plan runs no checks or test on checkpoints.'));
      }, () => replace(checks, h('p', {class: 'muted'}, 'No verdict for this checkpoint yet.')));
    }
  };
  update(initial);
  return {el, update};
}

/** Checks or tests: name, passed/failed, time, and the output on request. */
export function testList(results) {
  return h('ul', {class: 'tests'}, results.map((t) => {
    const output = t.output ?? [t.outputHead, t.droppedBytes ? `\n[... ${t.droppedBytes} bytes not kept ...]\n` : '', t.outputTail].join('');
    return h('li', null,
      pill(t.passed ? 'passed' : t.timedOut ? 'timed out' : 'failed'), ' ',
      h('code', null, t.name), ` ${t.durationMs} ms`, t.exitCode !== null && t.exitCode !== undefined ? ` · exit ${t.exitCode}` : '',
      output && output.trim() ? h('details', null, h('summary', null, 'output'), h('pre', {class: 'output'}, output)) : null);
  }));
}
