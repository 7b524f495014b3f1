#!/usr/bin/env node
// One line of counts and the score from a Stryker mutation-report.json (mutation-testing-elements schema).
// Score = detected / (detected + survived + no coverage): a mutant no test reaches counts as not killed,
// like a survivor. Timeouts count as detected (the mutant made a test hang, which the suite notices),
// as Stryker does; the line also gives the score without them.
//   node .ci/tools/mutation-score.mjs artifacts/mutation/engine/reports/mutation-report.json engine 840
import { readFileSync } from "node:fs";

const [file, name = "mutation", seconds] = process.argv.slice(2);
const report = JSON.parse(readFileSync(file, "utf8"));
const counts = {};
for (const f of Object.values(report.files ?? {})) {
  for (const m of f.mutants ?? []) counts[m.status] = (counts[m.status] ?? 0) + 1;
}
const n = (s) => counts[s] ?? 0;
const killed = n("Killed"), timeout = n("Timeout"), survived = n("Survived"), noCoverage = n("NoCoverage");
const valid = killed + timeout + survived + noCoverage;
const pct = (x) => (valid === 0 ? "n/a" : `${((100 * x) / valid).toFixed(1)}%`);
const ignored = n("Ignored"), compile = n("CompileError"), runtime = n("RuntimeError");
console.log(
  `mutation ${name}: score ${pct(killed + timeout)} (${pct(killed)} without timeouts) of ${valid} mutants: ` +
    `${killed} killed, ${timeout} timeout, ${survived} survived, ${noCoverage} no coverage; ` +
    `not scored: ${ignored} ignored, ${compile} compile error, ${runtime} runtime error` +
    (seconds ? `; ${seconds}s` : ""),
);
