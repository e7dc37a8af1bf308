// A virtualised list of fixed-height rows: however many items there are (10,000 feed events), only
// the rows in view plus a few either side are in the DOM.

import {h, clear} from './dom.js';

export class VirtualList {
  /**
   * @param items a function returning the current array
   * @param renderRow (item) => element (one line, `rowHeight` pixels tall)
   */
  constructor({items, renderRow, rowHeight = 30, overscan = 10, className = ''}) {
    this.items = items;
    this.renderRow = renderRow;
    this.rowHeight = rowHeight;
    this.overscan = overscan;
    this.spacer = h('div', {class: 'vlist-spacer'});
    this.window = h('div', {class: 'vlist-window'});
    this.el = h('div', {class: `vlist ${className}`}, this.spacer, this.window);
    this.el.addEventListener('scroll', () => this.draw());
    this.drawn = {from: -1, to: -1, count: -1};
  }

  /** Items were added at the top: keep what the person is looking at in place unless they are at the top. */
  addedAtTop(count) {
    if (this.el.scrollTop > 0) this.el.scrollTop += count * this.rowHeight;
    this.draw(true);
  }

  draw(force = false) {
    const items = this.items();
    const height = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - this.overscan);
    const last = Math.min(items.length, Math.ceil((this.el.scrollTop + height) / this.rowHeight) + this.overscan);
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    if (!force && first === this.drawn.from && last === this.drawn.to && items.length === this.drawn.count) return;
    this.drawn = {from: first, to: last, count: items.length};
    this.window.style.transform = `translateY(${first * this.rowHeight}px)`;
    clear(this.window);
    for (let i = first; i < last; i++) {
      const row = this.renderRow(items[i]);
      row.style.height = `${this.rowHeight}px`;
      this.window.appendChild(row);
    }
  }

  /** Rows currently in the DOM (tests and the "N of M shown" line use it). */
  get rendered() {
    return this.window.childElementCount;
  }
}
