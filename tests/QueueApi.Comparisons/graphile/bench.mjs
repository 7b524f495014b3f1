// The graphile-worker side of the head-to-head run (GraphileSystem.cs starts it once per measurement).
// Usage: node bench.mjs <postgres-url> <enqueue|batch|e2e> <n> <producers> <concurrency> <default|batched>
// Prints one line of JSON: {"perSecond": ...}. Each run gets a schema of its own and drops it afterwards, so
// every measurement starts on empty tables, as the .NET sides do.
import { Logger, makeWorkerUtils, run } from "graphile-worker";

const [url, mode, nText, producersText, concurrencyText, config] = process.argv.slice(2);
const n = Number(nText);
const producers = Number(producersText);
const concurrency = Number(concurrencyText);
const schema = `gw_${Math.random().toString(36).slice(2, 10)}`;
const quiet = new Logger(() => () => {});
const bound = Date.now() + 10 * 60 * 1000;

// The batched configuration is the one graphile-worker's "Performance" page describes: a local queue of
// prefetched jobs (32, as QueueApi's claim batch) and completions batched without an added wait.
const preset = config === "batched"
  ? { worker: { localQueue: { size: 32 }, completeJobBatchDelay: 0 } }
  : { worker: {} };

const utils = await makeWorkerUtils({ connectionString: url, schema, logger: quiet });
await utils.migrate();

/** n single addJob calls (one round trip each) from `producers` concurrent loops; batch mode adds 100 per call. */
async function enqueue() {
  let next = 0;
  const per = mode === "batch" ? 100 : 1;
  const loops = Array.from({ length: producers }, async () => {
    while (next < n) {
      const take = Math.min(per, n - next);
      next += take;
      if (per === 1) {
        await utils.addJob("noop", {});
      } else {
        await utils.addJobs(Array.from({ length: take }, () => ({ identifier: "noop", payload: {} })));
      }
    }
  });
  await Promise.all(loops);
}

async function remaining() {
  const r = await utils.withPgClient((c) => c.query(`select count(*)::int as c from ${schema}._private_jobs`));
  return r.rows[0].c;
}

let perSecond;
if (mode === "enqueue" || mode === "batch") {
  const start = performance.now();
  await enqueue();
  perSecond = n / ((performance.now() - start) / 1000);
} else {
  let done = 0;
  let reached;
  const all = new Promise((resolve) => { reached = resolve; });
  const runner = await run({
    connectionString: url,
    schema,
    concurrency,
    noHandleSignals: true,
    logger: quiet,
    preset,
    taskList: { noop: async () => { if (++done === n) reached(); } },
  });
  const start = performance.now();
  await enqueue();
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`only ${done} of ${n} ran`)), bound - Date.now()); });
  await Promise.race([all, late]);
  clearTimeout(timer);
  // Done means committed: a completed job is deleted, so wait until the table is empty.
  while ((await remaining()) > 0) {
    if (Date.now() > bound) throw new Error("completions were not all committed");
    await new Promise((r) => setTimeout(r, 20));
  }
  perSecond = n / ((performance.now() - start) / 1000);
  await runner.stop();
}

await utils.withPgClient((c) => c.query(`drop schema ${schema} cascade`));
await utils.release();
console.log(JSON.stringify({ perSecond }));
// Nothing is left to wait for; exit rather than trust every pool and timer to let go.
process.exit(0);
