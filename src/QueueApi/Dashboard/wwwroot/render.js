// Draws a snapshot into the page. Rows are keyed and updated in place (see reconcile in dom.js).
import { el, setText, setBadge, reconcile, row, count, rate, duration, time, words } from "./dom.js";

const $ = id => document.getElementById(id);

const workerKinds = {
  idle: "neutral", busy: "info", retrying: "warn", paused: "pause", backingOff: "warn",
  starting: "neutral", stopping: "neutral", stopped: "neutral", faulted: "bad",
};

function button(text, action, className = "small") {
  const b = el("button", className, text);
  b.type = "button";
  b.dataset.action = action;
  return b;
}

// ---- queues ----
const queueLabels = ["Queue", "State", "Circuit", "Depth", "Busy", "In/s", "Out/s", "Accepted", "Succeeded", "Failed", "Dead", "Dropped", "Books", "Action"];
const queueClasses = {
  Depth: "depth", Busy: "num", "In/s": "num", "Out/s": "num", Accepted: "num", Succeeded: "num",
  Failed: "num", Dead: "num", Dropped: "num", Action: "buttons",
};

function createQueueRow(q) {
  const tr = row(queueLabels, queueClasses);
  tr.dataset.queue = q.name;
  const [name, state, circuit, depth] = tr.children;
  name.append(el("span", "name"), el("span", "sub"));
  state.append(el("span", "badge"));
  circuit.append(el("span", "badge"));
  const bar = el("span", "bar");
  bar.append(el("span"));
  depth.append(el("span", "depth-text"), bar);
  tr.children[12].append(el("span", "badge"));
  const toggle = button("Pause", "pause");
  toggle.dataset.queue = q.name;
  tr.children[13].append(toggle);
  return tr;
}

function updateQueueRow(tr, q, engineRunning) {
  const c = tr.children;
  setText(c[0].firstChild, q.name);
  setText(c[0].lastChild, `${q.handler} · ${q.workers} workers`);
  const stateBadge = c[1].firstChild;
  if (q.paused) setBadge(stateBadge, "paused", "pause", "paused");
  else if (!q.accepting) setBadge(stateBadge, engineRunning ? "not accepting" : "stopping", engineRunning ? "bad" : "neutral", "closed");
  else setBadge(stateBadge, "running", "ok", "running");
  const state = q.circuit.state;
  const circuit = { closed: ["closed", "ok"], open: ["open", "bad"], halfOpen: ["half-open", "warn"], disabled: ["off", "neutral"] }[state] ?? [state, "neutral"];
  setBadge(c[2].firstChild, state === "open" && q.circuit.openUntil ? `open until ${time(q.circuit.openUntil)}` : circuit[0], circuit[1], state);
  setText(c[3].firstChild, `${count(q.depth)} / ${count(q.capacity)}`);
  c[3].lastChild.firstChild.style.width = `${Math.min(100, (q.depth / q.capacity) * 100).toFixed(1)}%`;
  setText(c[4], `${q.busyWorkers} / ${q.workers}`);
  setText(c[5], rate(q.inPerSecond));
  setText(c[6], rate(q.outPerSecond));
  setText(c[7], count(q.counts.accepted));
  setText(c[8], count(q.counts.succeeded));
  setText(c[9], count(q.counts.failed));
  setText(c[10], count(q.deadLetters));
  setText(c[11], count(q.counts.dropped));
  setBadge(c[12].firstChild, q.counts.balanced ? "balanced" : "settling", q.counts.balanced ? "ok" : "neutral");
  const toggle = c[13].firstChild;
  setText(toggle, q.paused ? "Resume" : "Pause");
  toggle.dataset.action = q.paused ? "resume" : "pause";
  toggle.setAttribute("aria-label", `${q.paused ? "Resume" : "Pause"} queue ${q.name}`);
  toggle.disabled = !engineRunning;
  tr.classList.toggle("attention", state === "open" || (!q.accepting && engineRunning));
}

// ---- workers ----
const workerLabels = ["Worker", "State", "Message", "For", "Attempt", "Succeeded", "Failed", "Fault"];
const workerClasses = { Message: "id", For: "num", Attempt: "num", Succeeded: "num", Failed: "num", Fault: "text wide" };

function createWorkerRow(w) {
  const tr = row(workerLabels, workerClasses);
  tr.dataset.worker = w.id;
  tr.children[0].append(el("span", "name"), el("span", "muted small"));
  tr.children[1].append(el("span", "badge"));
  return tr;
}

function updateWorkerRow(tr, w, engineRunning) {
  const c = tr.children;
  setText(c[0].firstChild, w.id);
  // The managed thread id, to match the thread in dotnet-dump; the full thread name on hover.
  setText(c[0].lastChild, ` #${w.managedThreadId}`);
  c[0].title = w.threadName;
  const dead = !w.isAlive && engineRunning;
  if (w.overdue) setBadge(c[1].firstChild, "busy · over time limit", "bad", "overdue");
  else if (dead) setBadge(c[1].firstChild, "thread ended", "bad", "dead");
  else setBadge(c[1].firstChild, words(w.state), workerKinds[w.state] ?? "neutral", w.state);
  setText(c[2], w.currentMessageId ?? "");
  setText(c[3], duration(w.busyForMs));
  setText(c[4], w.currentAttempt ?? "");
  setText(c[5], count(w.succeeded));
  setText(c[6], count(w.failed));
  setText(c[7], w.fault ? `${w.fault.type}: ${w.fault.message}` : "");
  tr.classList.toggle("attention", w.overdue || dead || w.state === "faulted");
}

// ---- dead letters and failures ----
const deadLabels = ["Queue", "Message", "Attempts", "Error", "Payload", "Dead since", "Actions"];
const deadClasses = { Message: "id", Attempts: "num", Error: "text wide", Payload: "payload wide", Actions: "buttons" };

function createDeadRow(m) {
  const tr = row(deadLabels, deadClasses);
  tr.dataset.message = m.id;
  const actions = tr.children[6];
  for (const [text, action] of [["Requeue", "requeue"], ["Delete", "delete"]]) {
    const b = button(text, action, action === "delete" ? "small danger" : "small");
    b.dataset.queue = m.queue;
    b.dataset.id = m.id;
    b.setAttribute("aria-label", `${text} dead letter ${m.id}`);
    actions.append(b);
  }
  return tr;
}

function payloadText(m) {
  return m.payloadTruncated ? `${m.payload}…` : m.payload;
}

function updateDeadRow(tr, m, engineRunning) {
  const c = tr.children;
  setText(c[0], m.queue);
  setText(c[1], m.id);
  setText(c[2], m.attempts);
  setText(c[3], m.error ?? "");
  setText(c[4], payloadText(m));
  setText(c[5], time(m.completedAt));
  for (const b of c[6].children) b.disabled = !engineRunning;
}

const failureLabels = ["Queue", "Message", "Status", "Attempts", "Error", "Payload"];
const failureClasses = { Message: "id", Attempts: "num", Error: "text wide", Payload: "payload wide" };

function createFailureRow(m) {
  const tr = row(failureLabels, failureClasses);
  tr.dataset.message = m.id;
  tr.children[2].append(el("span", "badge"));
  return tr;
}

function updateFailureRow(tr, m) {
  const c = tr.children;
  setText(c[0], m.queue);
  setText(c[1], m.id);
  const kind = m.status === "failed" || m.status === "dropped" ? "bad" : "warn";
  setBadge(c[2].firstChild, words(m.status), kind, m.status);
  setText(c[3], m.attempts);
  setText(c[4], m.error ?? "");
  setText(c[5], payloadText(m));
}

// ---- overview, report, replicas ----
function tiles(snapshot) {
  const q = snapshot.queues;
  const sum = f => q.reduce((n, x) => n + f(x), 0);
  const values = [
    ["Queued", count(sum(x => x.depth))],
    ["In flight", count(sum(x => x.counts.inFlight + x.counts.retrying))],
    ["Workers busy", `${sum(x => x.busyWorkers)} / ${sum(x => x.workers)}`],
    ["In per second", rate(sum(x => x.inPerSecond))],
    ["Out per second", rate(sum(x => x.outPerSecond))],
    ["Dead letters", count(sum(x => x.deadLetters))],
  ];
  const box = $("tiles");
  if (box.children.length !== values.length) {
    box.replaceChildren(...values.map(() => {
      const tile = el("div", "tile");
      tile.append(el("div", "value"), el("div", "label"));
      return tile;
    }));
  }
  values.forEach(([label, value], i) => {
    setText(box.children[i].firstChild, value);
    setText(box.children[i].lastChild, label);
  });
}

function fact(list, term, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", "", term), el("dd", "", value));
}

function report(r) {
  const section = $("stop");
  section.hidden = !r;
  if (!r) return;
  setText($("stop-title"), r.complete ? "Shutdown report" : "Shutdown in progress");
  const summary = el("dl", "facts");
  summary.id = "stop-summary";
  fact(summary, "Reason", words(r.reason));
  fact(summary, "Mode", r.mode);
  fact(summary, "Requested", time(r.requestedAt));
  fact(summary, "Completed", r.complete ? time(r.completedAt) : "not yet");
  fact(summary, "Exit code", r.exitCode);
  if (r.firstFailure) {
    const f = r.firstFailure;
    fact(summary, "First failure", `worker ${f.workerId} ${f.kind}: ${f.exception}: ${f.message}${f.messageId ? ` (message ${f.messageId})` : ""}`);
  }
  if (r.abandonedWorkers?.length) fact(summary, "Abandoned workers", r.abandonedWorkers.join(", "));
  $("stop-summary").replaceWith(summary);
  $("stop-phases").replaceChildren(...r.phases.map(p => el("li", "", `${p.name}: ${duration(Math.round(p.durationMs))}`)));
  const rows = Object.entries(r.queues).map(([name, c]) => {
    const tr = el("tr");
    tr.append(el("td", "name", name));
    for (const v of [c.accepted, c.succeeded, c.failed, c.deadLettered, c.dropped, c.queued, c.inFlight + c.retrying]) tr.append(el("td", "num", count(v)));
    return tr;
  });
  $("stop-queues").tBodies[0].replaceChildren(...rows);
}

function replicas(list) {
  $("replicas").hidden = !list;
  if (!list) return;
  reconcile($("replica-rows"), list, r => r.id,
    () => row(["Replica", "State", "Last seen", "Detail"], { Detail: "text wide" }),
    (tr, r) => {
      setText(tr.children[0], r.id);
      setText(tr.children[1], r.state);
      setText(tr.children[2], time(r.lastSeen));
      setText(tr.children[3], r.detail ?? "");
    });
}

function engine(snapshot) {
  const e = snapshot.engine;
  const badge = $("engine");
  if (!e.live) setBadge(badge, "unhealthy", "bad", e.state);
  else setBadge(badge, words(e.state), { running: "ok", stopping: "warn" }[e.state] ?? "neutral", e.state);
  badge.title = e.reason;
  const health = $("health");
  health.hidden = e.live;
  setText(health, e.live ? "" : `Not live: ${e.reason}`);
  const running = e.state === "running";
  for (const id of ["freeze", "unfreeze", "shutdown"]) $(id).disabled = !running;
  setText($("updated"), `updated ${time(snapshot.at)}`);
}

function queueOptions(queues) {
  const select = $("enqueue-queue");
  const names = queues.map(q => q.name);
  if ([...select.options].map(o => o.value).join() === names.join()) return;
  const chosen = select.value || (names.includes("demo") ? "demo" : names[0]);
  select.replaceChildren(...names.map(n => {
    const option = el("option", "", n);
    option.value = n;
    return option;
  }));
  select.value = chosen;
}

/** Draws one snapshot. */
export function render(original, updateChart) {
  // The API's own queue and worker views, with the dashboard's extras beside them: flattened for drawing.
  const snapshot = {
    ...original,
    queues: original.queues.map(x => ({ ...x.queue, inPerSecond: x.inPerSecond, outPerSecond: x.outPerSecond })),
    workers: original.workers.map(x => ({ ...x.worker, busyForMs: x.busyForMs, overdue: x.overdue })),
  };
  const running = snapshot.engine.state === "running";
  engine(snapshot);
  tiles(snapshot);
  updateChart(snapshot.history);
  const last = a => (a?.length ? a[a.length - 1] : 0);
  setText($("now-ok"), count(last(snapshot.history.succeeded)));
  setText($("now-bad"), count(last(snapshot.history.failed)));
  reconcile($("queue-rows"), snapshot.queues, q => q.name, createQueueRow, (tr, q) => updateQueueRow(tr, q, running));
  reconcile($("worker-rows"), snapshot.workers, w => w.id, createWorkerRow, (tr, w) => updateWorkerRow(tr, w, running));
  reconcile($("dead-rows"), snapshot.deadLetters, m => m.id, createDeadRow, (tr, m) => updateDeadRow(tr, m, running));
  $("dead-empty").hidden = snapshot.deadLetters.length > 0;
  $("dead-rows").parentElement.hidden = snapshot.deadLetters.length === 0;
  const total = snapshot.queues.reduce((n, q) => n + q.deadLetters, 0);
  setText($("dead-count"), total > snapshot.deadLetters.length ? `(newest ${snapshot.deadLetters.length} of ${count(total)})` : "");
  reconcile($("failure-rows"), snapshot.failures, m => m.id, createFailureRow, updateFailureRow);
  $("failures-empty").hidden = snapshot.failures.length > 0;
  $("failure-rows").parentElement.hidden = snapshot.failures.length === 0;
  report(snapshot.shutdown);
  replicas(snapshot.replicas);
  queueOptions(snapshot.queues);
}
