// The throughput chart: two SVG polylines over the last five minutes, scaled to the busiest second.
// Hand-written (no library): a few dozen lines, styled by the page's CSS, so dark mode just works.
import { el, setText, count } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 300; // one unit a second
const HEIGHT = 100;

function svg(tag, attributes) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

/** A round ceiling for the axis: 1, 2, 5, 10, 20, 50, ... */
function niceMax(value) {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

export function createChart(container) {
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", role: "img" });
  const title = svg("title", {});
  root.append(title);
  for (const y of [0, HEIGHT / 2, HEIGHT]) {
    root.append(svg("line", { x1: 0, x2: WIDTH, y1: y, y2: y, class: "grid-line" }));
  }
  const area = svg("polygon", { class: "area-ok", points: "" });
  const ok = svg("polyline", { class: "line-ok", points: "" });
  const bad = svg("polyline", { class: "line-bad", points: "" });
  root.append(area, ok, bad);

  const top = el("span", "y y-top");
  const mid = el("span", "y y-mid");
  const bottom = el("span", "y y-bottom", "0");
  const axis = el("div", "x");
  axis.append(el("span", "", "5 min ago"), el("span", "", "2½ min"), el("span", "", "now"));
  container.append(top, mid, bottom, root, axis);

  return function update(history) {
    const succeeded = history?.succeeded ?? [];
    const failed = history?.failed ?? [];
    const max = niceMax(Math.max(1, ...succeeded, ...failed));
    // Right-aligned: the newest second sits at the right edge, whatever the history's length.
    const offset = WIDTH - succeeded.length;
    const y = v => (HEIGHT - (v / max) * HEIGHT).toFixed(2);
    const points = values => values.map((v, i) => `${offset + i + 1},${y(v)}`).join(" ");
    const okPoints = points(succeeded);
    ok.setAttribute("points", okPoints);
    bad.setAttribute("points", points(failed));
    area.setAttribute("points", succeeded.length ? `${offset + 1},${HEIGHT} ${okPoints} ${WIDTH},${HEIGHT}` : "");
    setText(top, count(max));
    setText(mid, count(max / 2));
    const peakOk = Math.max(0, ...succeeded);
    const peakBad = Math.max(0, ...failed);
    setText(title, `Messages per second over the last ${Math.round(succeeded.length / 60)} minutes: up to ${peakOk} succeeded and ${peakBad} failed in a second.`);
  };
}
