#!/usr/bin/env node
// One line of counts and the score from a Stryker mutation-report.json (mutation-testing-elements schema).
// Score = detected / (detected + survived + no coverage): a mutant no test reaches counts as not killed,
// like a survivor. Timeouts count as detected (the mutant made a test hang, which the suite notices),
// as Stryker does; the line also gives the score without them.
//   node .ci/tools/mutation-score.mjs artifacts/mutation/engine/reports/mutation-report.json engine 840
// Several reports of disjoint slices of one project (`--mutate` globs, e.g. the shards of a full pass run on
// several machines) are summed into the project's score; a mutant scored in two of them is an error, since it
// would be counted twice:
//   node .ci/tools/mutation-score.mjs --merge http shard-*/reports/mutation-report.json
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const merge = args[0] === "--merge";
const [name = "mutation", files, seconds] = merge ? [args[1], args.slice(2), undefined] : [args[1], [args[0]], args[2]];
if (!files.length || files.some((f) => !f)) {
  console.error("usage: mutation-score.mjs REPORT [NAME [SECONDS]] | --merge NAME REPORT...");
  process.exit(2);
}

const scored = new Set(["Killed", "Timeout", "Survived", "NoCoverage"]);
// Each mutant once, by where it is and what it does: a slice's report lists every mutant of the project, those
// outside the slice as ignored, so a mutant scored in one slice and ignored in the others counts as scored once.
const status = new Map();
const scoredIn = new Map();
for (const file of files) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  for (const [path, f] of Object.entries(report.files ?? {})) {
    for (const m of f.mutants ?? []) {
      const where = `${path}:${m.location?.start?.line}:${m.location?.start?.column}:${m.mutatorName}:${m.replacement ?? ""}`;
      if (scored.has(m.status)) {
        if (scoredIn.has(where)) {
          console.error(`mutation ${name}: ${where} is scored in both ${scoredIn.get(where)} and ${file}: the slices overlap`);
          process.exit(1);
        }
        scoredIn.set(where, file);
        status.set(where, m.status);
      } else if (!status.has(where)) {
        status.set(where, m.status);
      }
    }
  }
}

const counts = {};
for (const s of status.values()) counts[s] = (counts[s] ?? 0) + 1;
const n = (s) => counts[s] ?? 0;
const killed = n("Killed"), timeout = n("Timeout"), survived = n("Survived"), noCoverage = n("NoCoverage");
const valid = killed + timeout + survived + noCoverage;
const pct = (x) => (valid === 0 ? "n/a" : `${((100 * x) / valid).toFixed(1)}%`);
const ignored = n("Ignored"), compile = n("CompileError"), runtime = n("RuntimeError");
console.log(
  `mutation ${name}: score ${pct(killed + timeout)} (${pct(killed)} without timeouts) of ${valid} mutants` +
    (merge ? ` in ${files.length} slices` : "") +
    `: ${killed} killed, ${timeout} timeout, ${survived} survived, ${noCoverage} no coverage; ` +
    `not scored: ${ignored} ignored, ${compile} compile error, ${runtime} runtime error` +
    (seconds ? `; ${seconds}s` : ""),
);
