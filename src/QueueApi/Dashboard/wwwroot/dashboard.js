// The live connection: server-sent events from /dashboard/events; when the stream drops or ends (a stop began),
// poll /dashboard/snapshot once a second, and go back to the stream once the service runs again.
import { createChart } from "./chart.js";
import { render } from "./render.js";
import { wireActions, setKeyRequired } from "./actions.js";
import { setBadge } from "./dom.js";

const STREAM = "/dashboard/events";
const SNAPSHOT = "/dashboard/snapshot";
const POLL_MS = 1000;
const RETRY_STREAM_MS = 10000;
const FETCH_TIMEOUT_MS = 4000;

const updateChart = createChart(document.getElementById("chart"));
let source = null;
let polling = false;
let lastStreamTry = 0;
let last = null;

function setMode(mode) {
  const [word, kind] = {
    live: ["live", "ok"],
    polling: ["polling", "warn"],
    offline: ["offline", "bad"],
    gone: ["service stopped", "neutral"],
  }[mode];
  const badge = document.getElementById("connection");
  setBadge(badge, word, kind);
  badge.dataset.mode = mode;
  badge.title = {
    live: "Live: the service pushes an update every second",
    polling: "The stream is not available; asking for a snapshot every second",
    offline: "The service does not answer; still trying",
    gone: "The service stopped; the last state stays on the page",
  }[mode];
}

function show(snapshot) {
  last = snapshot;
  setKeyRequired(snapshot.adminKeyRequired);
  render(snapshot, updateChart);
}

function connect() {
  lastStreamTry = Date.now();
  source = new EventSource(STREAM);
  source.addEventListener("snapshot", e => {
    polling = false;
    setMode("live");
    show(JSON.parse(e.data));
  });
  // A stop began: the stream ends by design; the report keeps forming in the snapshots.
  source.addEventListener("stopping", e => {
    show(JSON.parse(e.data));
    dropStream();
  });
  source.onerror = dropStream;
}

function dropStream() {
  if (source) {
    source.close();
    source = null;
  }
  if (!polling) {
    polling = true;
    setMode("polling");
    poll();
  }
}

async function fetchSnapshot() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(SNAPSHOT, { cache: "no-store", signal: controller.signal });
    if (!response.ok) throw new Error(`${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

async function poll() {
  if (!polling) return;
  try {
    const snapshot = await fetchSnapshot();
    if (!polling) return;
    setMode("polling");
    show(snapshot);
    if (snapshot.engine.state === "running" && !source && Date.now() - lastStreamTry > RETRY_STREAM_MS) connect();
  } catch {
    const gone = last && last.engine.state !== "running";
    setMode(gone ? "gone" : "offline");
    // The process ended between two polls: what the page shows is the last report it saw.
    if (gone && last.shutdown && !last.shutdown.complete) {
      document.getElementById("stop-title").textContent = "Shutdown report (last seen before the service exited)";
    }
  }
  setTimeout(poll, POLL_MS);
}

/** After an action: show its effect now rather than at the next tick. */
async function refreshNow() {
  try {
    show(await fetchSnapshot());
  } catch {
    // The stream or the poll brings the next state.
  }
}

wireActions(refreshNow);
connect();
