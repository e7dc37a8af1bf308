// What this token may do: its role is read once (GET /api/v1/whoami), and every control that changes
// something says which role it needs. A control the role may not use is disabled, with the reason as
// its tooltip and in words beside it, so a viewer sees what is there and why it cannot use it; a
// control the feature's status does not allow says that instead. The API still decides: whatever it
// refuses is shown where the control is.

import {api} from './api.js';
import {h, replace} from './dom.js';

const ROLES = ['viewer', 'agent', 'approver', 'admin'];

export const me = {name: null, role: null, features: []};

export async function loadMe() {
  const answer = await api.json('/whoami');
  Object.assign(me, answer);
  return me;
}

/** null when this token's role includes `required`; otherwise why not, in words. */
export function refusal(required) {
  if (!me.role || ROLES.indexOf(me.role) >= ROLES.indexOf(required)) return null;
  return `needs ${article(required)} ${required} token; this one (${me.name}) is ${article(me.role)} ${me.role}`;
}

function article(word) {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/**
 * Enables `el` (a button or input) when the role allows it and `blocked` (the status's reason, or
 * null) does not stop it; otherwise disables it and records why (title and data-why).
 */
export function guard(el, required, blocked = null) {
  const why = refusal(required) || blocked || null;
  el.dataset.needs = required;
  el.disabled = Boolean(why);
  if (why) {
    el.title = why;
    el.dataset.why = why;
  } else {
    el.removeAttribute('title');
    delete el.dataset.why;
  }
  return el;
}

/** A button that needs `required`: h('button') plus guard(). */
export function action(label, required, attrs = {}, blocked = null) {
  return guard(h('button', {type: 'button', ...attrs}, label), required, blocked);
}

/** A row of controls with the reasons of the disabled ones written under it; call .explain() after re-guarding. */
export function actions(attrs, ...controls) {
  const why = h('p', {class: 'why muted'});
  const el = h('div', {...attrs, class: `actions ${attrs?.class ?? ''}`}, ...controls, why);
  el.explain = () => {
    const byReason = new Map(); // reason → labels of the controls it disables
    el.querySelectorAll('[data-why]').forEach((c) => {
      if (c.closest('[hidden]')) return;
      byReason.set(c.dataset.why, [...(byReason.get(c.dataset.why) || []), label(c)]);
    });
    replace(why, [...byReason].map(([reason, labels]) => `${labels.join(', ')}: ${reason}`).join(' · '));
    return el;
  };
  return el.explain();
}

function label(control) {
  return control.dataset.label || control.textContent || control.getAttribute('aria-label') || control.name || 'this';
}

/** The API's error, where it happened: the message, and the field it names when the field is on the form. */
export function showError(slot, error) {
  replace(slot, error ? error.message : '');
}
