#!/usr/bin/env node
// What actionlint does not enforce but this project promises of its GitHub workflows: no default
// token permissions (`permissions: {}` at the top, each job asks for its own), a timeout on every
// job, and every third-party action pinned to a full commit SHA (a tag can be moved to other code).
//   node .ci/tools/check-workflows.mjs [.github/workflows]
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const dir = process.argv[2] ?? ".github/workflows";
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
const problems = [];

for (const file of files) {
  const wf = parse(readFileSync(file, "utf8"));
  const before = problems.length;
  const top = wf.permissions;
  if (!(top && typeof top === "object" && Object.keys(top).length === 0)) {
    problems.push(`${file}: top-level "permissions: {}" is missing`);
  }
  for (const [id, job] of Object.entries(wf.jobs ?? {})) {
    if (job["timeout-minutes"] === undefined) problems.push(`${file}: job ${id} has no timeout-minutes`);
    if (job.permissions === undefined && !job.uses) problems.push(`${file}: job ${id} does not declare its permissions`);
    const uses = [job.uses, ...(job.steps ?? []).map((s) => s.uses)].filter(Boolean);
    for (const u of uses) {
      if (u.startsWith("./") || u.startsWith("docker://")) continue;
      if (!/@[0-9a-f]{40}$/.test(u)) problems.push(`${file}: job ${id} uses ${u}, not pinned to a full commit SHA`);
    }
  }
  if (problems.length === before) console.log(`  ok  ${file}  permissions {}, job timeouts, actions pinned by SHA`);
}

if (files.length === 0) problems.push(`${dir}: no workflow files`);
if (problems.length > 0) {
  for (const p of problems) console.error(`  error  ${p}`);
  process.exit(1);
}
