// DOM helpers. Every value from the service goes in through textContent, never as markup.

/** A new element with a class and, optionally, text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Sets text only when it changed, so a steady page does not churn the DOM each second. */
export function setText(node, value) {
  const text = value === undefined || value === null ? "" : String(value);
  if (node.textContent !== text) node.textContent = text;
}

/** A badge: a word, with a colour that only repeats it (kind: ok, warn, bad, pause, info, neutral). */
export function setBadge(node, word, kind, state) {
  setText(node, word);
  const className = `badge badge-${kind}`;
  if (node.className !== className) node.className = className;
  if (state !== undefined) node.dataset.state = state;
}

/**
 * Keeps one row per key in a tbody: rows are created once, updated in place, moved only when the order
 * changes, and removed when their item is gone. So a focused button keeps its focus across updates.
 */
export function reconcile(tbody, items, keyOf, create, update) {
  const existing = new Map();
  for (const row of tbody.children) existing.set(row.dataset.key, row);
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    let row = existing.get(key);
    if (row) {
      existing.delete(key);
    } else {
      row = create(item);
      row.dataset.key = key;
    }
    update(row, item);
    const expected = previous ? previous.nextElementSibling : tbody.firstElementChild;
    if (expected !== row) tbody.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
}

/** A row of labelled cells (the label shows on phones, where the table turns into cards). */
export function row(labels, classes = {}) {
  const tr = el("tr");
  for (const label of labels) {
    const td = el("td", classes[label] || "");
    td.dataset.label = label;
    tr.append(td);
  }
  return tr;
}

const numbers = new Intl.NumberFormat("en");

export function count(n) {
  return n === undefined || n === null ? "" : numbers.format(n);
}

export function rate(n) {
  if (!n) return "0";
  return n >= 100 ? numbers.format(Math.round(n)) : n.toFixed(1).replace(/\.0$/, "");
}

/** 850 ms, 4.2 s, 3 m 05 s, 2 h 10 m. */
export function duration(ms) {
  if (ms === undefined || ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} m`;
}

export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
}

/** camelCase state names as words: backingOff becomes "backing off". */
export function words(name) {
  return String(name ?? "").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}
