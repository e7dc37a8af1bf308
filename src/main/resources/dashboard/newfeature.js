// Create a feature: repository, target branch, an id suggested from a title, and optionally a plan
// as JSON. What the API refuses is shown next to the field it names (`field` of its problem+json:
// `id`, `repo`, `target`, `plan.limits.maxChangedLines`, ...), anything else under the button.

import {api} from './api.js';
import {h, replace, featureHref} from './dom.js';
import {state} from './state.js';
import {action, actions, guard} from './controls.js';

/** A title as a feature id: lowercase letters, digits and '-', at most 63 characters, starting with a letter or digit. */
export function slugOf(title) {
  return String(title).normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}

export function newFeatureView() {
  const errors = {};
  const field = (name, labelText, input, hint) => {
    errors[name] = h('p', {class: 'error field-error', role: 'alert', dataset: {for: name}});
    return h('div', {class: 'field'}, h('label', {for: input.id}, labelText), input, hint ? h('p', {class: 'muted hint'}, hint) : null, errors[name]);
  };
  const known = [...state.features.values()];
  const lastRepo = known.sort((a, b) => (b.createdAt || '').localeCompare(a.createdAt || ''))[0]?.repo || '';
  const title = h('input', {id: 'new-title', type: 'text', placeholder: 'Add a login form'});
  const id = h('input', {id: 'new-id', type: 'text', spellcheck: 'false', placeholder: 'add-a-login-form'});
  const repo = h('input', {id: 'new-repo', type: 'text', spellcheck: 'false', value: lastRepo, placeholder: '/home/me/app'});
  const target = h('input', {id: 'new-target', type: 'text', spellcheck: 'false', value: 'main'});
  const plan = h('textarea', {id: 'new-plan', rows: 8, spellcheck: 'false', placeholder: '{"allowedPaths": ["src/**"], "limits": {"maxChangedLines": 500}}'});
  const general = h('p', {class: 'error', role: 'alert', id: 'new-error'});
  const create = action('Create the feature', 'agent', {id: 'new-submit', class: 'primary', type: 'submit'});
  [title, id, repo, target, plan].forEach((input) => guard(input, 'agent'));
  let idEdited = false;
  title.addEventListener('input', () => { if (!idEdited) id.value = slugOf(title.value); });
  id.addEventListener('input', () => { idEdited = id.value !== ''; });

  const form = h('form', {class: 'card new-feature', id: 'new-feature-form', autocomplete: 'off'},
    field('title', 'Title', title, 'Only to suggest an id; not stored.'),
    field('id', 'Id', id, 'A slug: lowercase letters, digits and "-". It names the branch warden/<id> and is never reused.'),
    field('repo', 'Repository', repo, 'Absolute path of the repository\'s root, under one of Warden\'s allowed roots.'),
    field('target', 'Target branch', target, 'The branch the feature starts from and its proposals land on.'),
    field('plan', 'Plan (JSON, optional)', plan, 'Empty: every path allowed, default limits, no checks. Checks or a test need an approver token.'),
    actions(null, create),
    general);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(errors).forEach((slot) => replace(slot));
    replace(general);
    const body = {id: id.value.trim(), repo: repo.value.trim(), target: target.value.trim()};
    if (plan.value.trim()) {
      try {
        body.plan = JSON.parse(plan.value);
      } catch (e) {
        replace(errors.plan, `not JSON: ${e.message}`);
        plan.focus();
        return;
      }
    }
    create.disabled = true;
    try {
      const feature = await api.post('/features', body);
      state.features.set(feature.id, feature);
      location.hash = featureHref(feature.id);
    } catch (e) {
      const name = e.field ? e.field.split(/[.[]/)[0] : null;
      const slot = errors[name === 'planTemplate' ? 'plan' : name];
      if (slot) {
        replace(slot, e.field !== name ? `${e.field}: ${e.message}` : e.message);
        ({id, repo, target, plan})[name === 'planTemplate' ? 'plan' : name]?.focus();
      } else {
        replace(general, e.message);
      }
    } finally {
      guard(create, 'agent');
    }
  });

  const el = h('section', {class: 'new-feature-page'},
    h('p', null, h('a', {href: '#/'}, '‹ All features')),
    h('h1', null, 'New feature'),
    h('p', {class: 'muted'}, 'Warden creates the branch warden/<id> at the target\'s head, checks it out in its own worktree and starts watching it; connect an agent to it with bin/warden agent <id>.'),
    form);
  return {el, dispose: () => {}};
}
