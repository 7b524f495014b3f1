// What the page can change: pause and resume, freeze everything, dead letters, a test message, shut down.
// Outside Development the admin key is asked for once and kept in sessionStorage only (never a URL or cookie).
import { el, time, words } from "./dom.js";

const KEY = "queueapi.adminKey";
const HEADER = "X-Api-Key";
const $ = id => document.getElementById(id);

let keyRequired = false;
let refresh = () => {};
let noticeTimer = 0;
const pending = new WeakSet();

export function setKeyRequired(required) {
  keyRequired = required;
}

/** Shows a short message in the status line; errors stay until the next message. */
export function notify(text, kind = "info") {
  const notice = $("notice");
  notice.textContent = text;
  notice.className = `notice${kind === "info" ? "" : ` notice-${kind}`}`;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (kind !== "bad") noticeTimer = setTimeout(() => { notice.hidden = true; }, 8000);
}

function askForKey() {
  const dialog = $("key-dialog");
  const form = $("key-form");
  const input = $("key-input");
  input.value = "";
  return new Promise(resolve => {
    const done = value => {
      form.removeEventListener("submit", onSubmit);
      $("key-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      dialog.close();
      resolve(value);
    };
    const onSubmit = e => { e.preventDefault(); done(input.value.trim() || null); };
    const onCancel = e => { e.preventDefault(); done(null); };
    form.addEventListener("submit", onSubmit);
    $("key-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  });
}

async function problem(response) {
  try {
    const p = await response.json();
    return `${p.title ?? response.status}: ${p.detail ?? ""}`.trim();
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

/** Sends an admin action with the key when one is needed; null when the user gave no key. */
async function send(method, url, body) {
  const headers = {};
  if (keyRequired) {
    let key = sessionStorage.getItem(KEY);
    if (!key) {
      key = await askForKey();
      if (!key) return null;
      sessionStorage.setItem(KEY, key);
    }
    headers[HEADER] = key;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body, cache: "no-store" });
  // A wrong key is forgotten, so the next action asks again.
  if (response.status === 401 || response.status === 403) sessionStorage.removeItem(KEY);
  return response;
}

/** Runs an action, says how it went, and refreshes the page at once instead of at the next tick. */
async function act(what, method, url, body) {
  try {
    const response = await send(method, url, body);
    if (!response) return null;
    if (!response.ok) {
      notify(`${what} failed. ${await problem(response)}`, "bad");
      return null;
    }
    refresh();
    return response;
  } catch (error) {
    notify(`${what} failed: ${error.message}. Is the service still running?`, "bad");
    return null;
  }
}

const path = (...parts) => parts.map(encodeURIComponent).join("/");

/** The row of a requeued or deleted dead letter goes away; the keyboard focus goes to its table's heading. */
function keepFocusNear() {
  $("dead-title").focus();
}

async function onTableClick(event) {
  const b = event.target.closest("button[data-action]");
  if (!b) return;
  const { action, queue, id } = b.dataset;
  // Not disabled while it runs: disabling a focused button drops the keyboard focus.
  if (pending.has(b)) return;
  pending.add(b);
  try {
    if (action === "pause" || action === "resume") {
      if (await act(`${action === "pause" ? "Pausing" : "Resuming"} ${queue}`, "POST", `/queues/${path(queue, action)}`)) {
        notify(`Queue ${queue} ${action === "pause" ? "paused: its workers take nothing new" : "resumed"}.`, "ok");
      }
    } else if (action === "requeue") {
      if (await act(`Requeueing ${id}`, "POST", `/queues/${path(queue, "dead-letters", id, "requeue")}`)) {
        notify(`Message ${id} is back in ${queue} with fresh attempts.`, "ok");
        keepFocusNear();
      }
    } else if (action === "delete") {
      if (!window.confirm(`Delete dead letter ${id}? It is counted as dropped and cannot be recovered.`)) return;
      if (await act(`Deleting ${id}`, "DELETE", `/queues/${path(queue, "dead-letters", id)}`)) {
        notify(`Dead letter ${id} deleted.`, "ok");
        keepFocusNear();
      }
    }
  } finally {
    pending.delete(b);
  }
}

async function freeze(pause) {
  const response = await act(pause ? "Freezing" : "Resuming", "POST", pause ? "/queues/pause-all" : "/queues/resume-all");
  if (response) notify(pause ? "Every queue is paused. Messages in hand finish; nothing new starts until you resume." : "Every queue resumed.", "ok");
}

function showMessage(m) {
  const list = el("dl", "facts");
  const add = (term, value) => {
    if (value !== null && value !== undefined && value !== "") list.append(el("dt", "", term), el("dd", "", value));
  };
  add("Id", m.id);
  add("Queue", m.queue);
  add("Status", words(m.status));
  add("Attempts", m.attempts);
  add("Worker", m.workerId);
  add("Enqueued", time(m.enqueuedAt));
  add("Started", time(m.startedAt));
  add("Completed", time(m.completedAt));
  add("Next attempt", time(m.nextAttemptAt));
  add("Error", m.error);
  const payload = el("pre", "payload-full", JSON.stringify(m.payload, null, 2));
  $("lookup-result").replaceChildren(list, payload);
}

async function lookUp(event) {
  event.preventDefault();
  const id = $("lookup-id").value.trim();
  const result = $("lookup-result");
  if (!id) return;
  const queues = [...$("enqueue-queue").options].map(o => o.value);
  try {
    for (const queue of queues) {
      const response = await fetch(`/queues/${path(queue, "messages", id)}`, { cache: "no-store" });
      if (response.ok) {
        showMessage(await response.json());
        return;
      }
    }
    result.replaceChildren(el("p", "empty", `No queue has a message ${id}. Only the last finished messages of each queue are kept.`));
  } catch (error) {
    result.replaceChildren(el("p", "empty", `Lookup failed: ${error.message}`));
  }
}

async function enqueue(event) {
  event.preventDefault();
  const queue = $("enqueue-queue").value;
  const body = $("enqueue-body").value;
  try {
    JSON.parse(body);
  } catch (error) {
    notify(`The payload is not JSON: ${error.message}`, "bad");
    return;
  }
  try {
    const response = await fetch(`/queues/${path(queue, "messages")}`, { method: "POST", headers: { "Content-Type": "application/json" }, body, cache: "no-store" });
    if (!response.ok) {
      notify(`Enqueue failed. ${await problem(response)}`, "bad");
      return;
    }
    const accepted = await response.json();
    $("lookup-id").value = accepted.id;
    notify(`Accepted on ${queue} as ${accepted.id}.`, "ok");
    refresh();
  } catch (error) {
    notify(`Enqueue failed: ${error.message}`, "bad");
  }
}

function shutdownDialog() {
  const dialog = $("confirm-shutdown");
  dialog.showModal();
  $("shutdown-cancel").focus();
}

async function shutdown(event) {
  event.preventDefault();
  const mode = new FormData(event.target).get("mode");
  $("confirm-shutdown").close();
  const response = await act("Shutting down", "POST", "/shutdown", JSON.stringify({ mode }));
  if (response) {
    const ticket = await response.json();
    notify(`Stopping (${ticket.mode}): ${ticket.queued} queued, ${ticket.inFlight} in flight, deadline ${time(ticket.deadline)}. The report appears below as it forms.`, "ok");
  }
}

/** Wires every control once; <paramref name="onChange"/> refreshes the page after an action. */
export function wireActions(onChange) {
  refresh = onChange;
  for (const id of ["queue-rows", "dead-rows"]) $(id).addEventListener("click", onTableClick);
  $("freeze").addEventListener("click", () => freeze(true));
  $("unfreeze").addEventListener("click", () => freeze(false));
  $("shutdown").addEventListener("click", shutdownDialog);
  $("shutdown-cancel").addEventListener("click", () => $("confirm-shutdown").close());
  $("shutdown-form").addEventListener("submit", shutdown);
  $("lookup").addEventListener("submit", lookUp);
  $("enqueue").addEventListener("submit", enqueue);
}
