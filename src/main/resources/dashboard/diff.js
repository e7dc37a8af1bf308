// Unified diffs as git writes them (core.quotePath=false, no renames) parsed into files, hunks and
// lines, and drawn per file with line numbers and colours. Text only: see dom.js.

import {h} from './dom.js';

/**
 * parseDiff(text) → {files: [{path, oldPath, newPath, change, binary, added, removed, hunks: [{header,
 * lines: [{kind: 'add'|'del'|'ctx'|'note', text, oldNo, newNo}]}]}], notes: [lines outside any file]}
 */
export function parseDiff(text) {
  const files = [];
  const notes = [];
  let file = null;
  let hunk = null;
  let oldNo = 0;
  let newNo = 0;
  const lines = String(text ?? '').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('diff --git ')) {
      file = {path: '', oldPath: null, newPath: null, change: 'modified', binary: false, added: 0, removed: 0, hunks: []};
      const [a, b] = headerPaths(line.slice('diff --git '.length));
      file.oldPath = a;
      file.newPath = b;
      file.path = b ?? a ?? '';
      files.push(file);
      hunk = null;
      continue;
    }
    if (hunk && file) {
      const first = line.charAt(0);
      if (first === '+') {
        hunk.lines.push({kind: 'add', text: line.slice(1), oldNo: null, newNo: newNo++});
        file.added++;
        continue;
      }
      if (first === '-') {
        hunk.lines.push({kind: 'del', text: line.slice(1), oldNo: oldNo++, newNo: null});
        file.removed++;
        continue;
      }
      if (first === ' ' || line === '') {
        hunk.lines.push({kind: 'ctx', text: line.slice(1), oldNo: oldNo++, newNo: newNo++});
        continue;
      }
      if (first === '\\') {
        hunk.lines.push({kind: 'note', text: line.slice(2), oldNo: null, newNo: null});
        continue;
      }
    }
    const range = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
    if (range && file) {
      oldNo = Number(range[1]);
      newNo = Number(range[2]);
      hunk = {header: line, lines: []};
      file.hunks.push(hunk);
      continue;
    }
    if (!file) {
      notes.push(line);
      continue;
    }
    hunk = null;
    if (line.startsWith('new file mode')) file.change = 'added';
    else if (line.startsWith('deleted file mode')) file.change = 'deleted';
    else if (line.startsWith('--- ')) {
      const p = filePath(line.slice(4));
      if (p === null) file.change = 'added';
      else file.oldPath = p;
    } else if (line.startsWith('+++ ')) {
      const p = filePath(line.slice(4));
      if (p === null) file.change = 'deleted';
      else file.newPath = p;
      file.path = file.change === 'deleted' ? (file.oldPath ?? file.path) : (file.newPath ?? file.path);
    } else if (line.startsWith('Binary files ') || line === 'GIT binary patch') {
      file.binary = true;
    } else if (line.startsWith('[warden:')) {
      notes.push(line);
    }
  }
  return {files, notes};
}

/** "a/x b/x" of a diff --git line; names with spaces are ambiguous there, so ---/+++ lines win later. */
function headerPaths(rest) {
  if (rest.startsWith('"')) {
    const [a, after] = quoted(rest);
    const b = after.trim();
    return [strip(a), strip(b.startsWith('"') ? quoted(b)[0] : b)];
  }
  // same name on both sides is the usual case: "a/<n> b/<n>"
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest.charAt(half) === ' ' && rest.slice(2, half) === rest.slice(half + 3)) {
    return [rest.slice(2, half), rest.slice(half + 3)];
  }
  const at = rest.indexOf(' b/');
  return at < 0 ? [strip(rest), strip(rest)] : [strip(rest.slice(0, at)), strip(rest.slice(at + 1))];
}

/** The name on a ---/+++ line: null for /dev/null; git ends names that have a space with a tab. */
function filePath(raw) {
  let name = raw.endsWith('\t') ? raw.slice(0, -1) : raw;
  if (name.startsWith('"')) name = quoted(name)[0];
  if (name === '/dev/null') return null;
  return strip(name);
}

function strip(name) {
  return name.startsWith('a/') || name.startsWith('b/') ? name.slice(2) : name;
}

/** A C-style quoted name as git writes unusual ones: returns [name, rest]. */
function quoted(text) {
  let out = '';
  const bytes = [];
  let i = 1;
  const flush = () => {
    if (bytes.length) {
      out += new TextDecoder().decode(new Uint8Array(bytes));
      bytes.length = 0;
    }
  };
  for (; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') break;
    if (c !== '\\') {
      flush();
      out += c;
      continue;
    }
    const n = text.charAt(++i);
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(text.slice(i, i + 3), 8));
      i += 2;
      continue;
    }
    flush();
    out += {n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v'}[n] ?? n;
  }
  flush();
  return [out, text.slice(i + 1)];
}

/** One file's section: a header with its name and counts, then its hunks as a table. */
export function renderFile(file, {open = true} = {}) {
  const body = file.binary
    ? h('p', {class: 'muted'}, 'Binary file: not shown.')
    : file.hunks.length === 0
      ? h('p', {class: 'muted'}, file.change === 'modified' ? 'Mode change only.' : 'Empty file.')
      : h('table', {class: 'diff'}, h('tbody', null, file.hunks.map(renderHunk)));
  return h('details', {class: 'diff-file', open, dataset: {path: file.path}},
    h('summary', null,
      h('span', {class: `change change-${file.change}`}, file.change),
      ' ',
      h('code', {class: 'file-name'}, file.path),
      ' ',
      h('span', {class: 'added'}, `+${file.added}`),
      ' ',
      h('span', {class: 'removed'}, `−${file.removed}`)),
    body);
}

function renderHunk(hunk) {
  return [
    h('tr', {class: 'hunk'}, h('td', {class: 'no'}), h('td', {class: 'no'}), h('td', {class: 'code'}, hunk.header)),
    ...hunk.lines.map((line) => h('tr', {class: `line line-${line.kind}`},
      h('td', {class: 'no'}, line.oldNo ?? ''),
      h('td', {class: 'no'}, line.newNo ?? ''),
      h('td', {class: 'code'}, line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : line.kind === 'note' ? '\\' : ' ', line.text))),
  ];
}

/** A whole diff: files (collapsed past the first few when there are many), and git's or Warden's notes. */
export function renderDiff(text) {
  const parsed = parseDiff(text);
  if (parsed.files.length === 0) {
    return h('div', {class: 'diff-view'}, h('p', {class: 'muted'}, 'No changes.'), parsed.notes.map((n) => h('p', {class: 'muted'}, n)));
  }
  const many = parsed.files.length > 8;
  return h('div', {class: 'diff-view'},
    h('p', {class: 'muted'}, `${parsed.files.length} file(s), `,
      h('span', {class: 'added'}, `+${parsed.files.reduce((s, f) => s + f.added, 0)}`), ' ',
      h('span', {class: 'removed'}, `−${parsed.files.reduce((s, f) => s + f.removed, 0)}`)),
    parsed.files.map((f, i) => renderFile(f, {open: !many || i < 3})),
    parsed.notes.filter((n) => n.trim()).map((n) => h('p', {class: 'note'}, n)));
}
