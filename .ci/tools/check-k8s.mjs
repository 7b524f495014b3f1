#!/usr/bin/env node
// Offline check of Kubernetes manifests: parse every YAML document, build the kubernetes-models class
// for its apiVersion/kind and call validate() (types, enums and required fields from the Kubernetes
// OpenAPI schema), then check what this project promises of its workloads (probes, resources, a
// locked-down security context) and that each Service selects a pod template and targets a port it has.
// kubernetes-models does not reject unknown fields, so a misspelt key passes here; a server-side
// `kubectl apply --dry-run=server` against a cluster is the check for that.
//   node .ci/tools/check-k8s.mjs [file-or-directory ...]   (default: deploy/kubernetes)
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
const roots = args.length > 0 ? args : ["deploy/kubernetes"];
const files = roots.flatMap((root) =>
  statSync(root).isDirectory()
    ? readdirSync(root)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort()
        .map((name) => join(root, name))
    : [root],
);

const problems = [];
const report = (where, message) => problems.push(`${where}: ${message}`);
const workloads = []; // { where, labels, ports }
const services = []; // { where, selector, ports }
const checked = []; // { where, what }: printed as ok at the end unless a problem names them

// "apps/v1" + "Deployment" -> kubernetes-models/apps/v1/Deployment; the core group is "v1".
async function modelFor(apiVersion, kind) {
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

function checkPodTemplate(where, spec, template) {
  const pod = template?.spec ?? {};
  const podSecurity = pod.securityContext ?? {};
  if (typeof pod.terminationGracePeriodSeconds !== "number") {
    report(where, "terminationGracePeriodSeconds must be set explicitly (it must exceed the shutdown budget)");
  }
  for (const c of pod.containers ?? []) {
    const at = `${where} container ${c.name}`;
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      if (!c[probe]) report(at, `has no ${probe}`);
    }
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) report(at, "needs resources.requests.cpu and .memory");
    if (!c.resources?.limits?.memory) report(at, "needs resources.limits.memory");
    const sc = c.securityContext ?? {};
    if (!(sc.runAsNonRoot ?? podSecurity.runAsNonRoot)) report(at, "must run with runAsNonRoot: true");
    if ((sc.seccompProfile ?? podSecurity.seccompProfile)?.type !== "RuntimeDefault") report(at, "needs seccompProfile.type: RuntimeDefault (pod or container)");
    if (sc.allowPrivilegeEscalation !== false) report(at, "needs securityContext.allowPrivilegeEscalation: false");
    if (sc.readOnlyRootFilesystem !== true) report(at, "needs securityContext.readOnlyRootFilesystem: true");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) report(at, "needs securityContext.capabilities.drop: [ALL]");
  }
  const selector = spec.selector?.matchLabels ?? {};
  const labels = template?.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(selector)) {
    if (labels[key] !== value) report(where, `selector ${key}=${value} does not match the pod template's labels`);
  }
  const ports = (pod.containers ?? []).flatMap((c) => c.ports ?? []);
  workloads.push({ where, labels, ports });
}

let documents = 0;
for (const file of files) {
  const text = readFileSync(file, "utf8");
  for (const [index, doc] of parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true }).entries()) {
    const where = `${relative(process.cwd(), file)}#${index + 1}`;
    for (const e of [...doc.errors, ...doc.warnings]) report(where, `YAML: ${e.message}`);
    if (doc.errors.length > 0) continue;
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // an empty document, e.g. after a trailing ---
    documents++;
    const { apiVersion, kind } = obj;
    const name = obj.metadata?.name ?? "(no name)";
    const Model = apiVersion && kind ? await modelFor(apiVersion, kind) : undefined;
    if (!Model) {
      report(where, `no kubernetes-models class for apiVersion=${apiVersion} kind=${kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      const details = e.errors ?? e.details;
      if (Array.isArray(details)) {
        for (const d of details) report(where, `${kind} ${name}: ${d.instancePath || "/"} ${d.message}`);
      } else {
        report(where, `${kind} ${name}: ${e.message}`);
      }
    }
    if (["Deployment", "StatefulSet", "DaemonSet"].includes(kind)) checkPodTemplate(where, obj.spec ?? {}, obj.spec?.template);
    if (kind === "Service") services.push({ where, selector: obj.spec?.selector ?? {}, ports: obj.spec?.ports ?? [] });
    checked.push({ where, what: `${apiVersion} ${kind} ${name}` });
  }
}

// Each Service must select some pod template, and every targetPort must be a port that template declares.
for (const svc of services) {
  const targets = workloads.filter((w) => Object.entries(svc.selector).every(([k, v]) => w.labels[k] === v));
  if (Object.keys(svc.selector).length === 0 || targets.length === 0) {
    report(svc.where, "Service selector matches no pod template in these manifests");
    continue;
  }
  for (const p of svc.ports) {
    const target = p.targetPort ?? p.port;
    const found = targets.some((w) =>
      w.ports.some((cp) => (typeof target === "string" ? cp.name === target : cp.containerPort === target)),
    );
    if (!found) report(svc.where, `targetPort ${target} is not a container port of the selected pods`);
  }
}

for (const { where, what } of checked) {
  if (!problems.some((p) => p.startsWith(`${where}:`) || p.startsWith(`${where} `))) console.log(`  ok  ${where}  ${what}`);
}
if (documents === 0) report(roots.join(" "), "no Kubernetes documents found");
if (problems.length > 0) {
  for (const p of problems) console.error(`  error  ${p}`);
  console.error(`kubernetes: ${problems.length} problem(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`kubernetes: ${documents} document(s) in ${files.length} file(s) valid (kubernetes-models schema + project checks)`);
