// Every namespaced object of a render lands in the namespace its topology
// documents, so that `kubectl apply -k` and `kubectl -n geo create secret`
// put the Deployment and the Secret it mounts side by side.
//
// usage: node check_namespaces.mjs NODE_MODULES NAMESPACE=RENDERED.yaml...
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, ...pairs] = process.argv.slice(2);
const YAML = await import(pathToFileURL(path.join(nodeModules, "yaml/dist/index.js")));

// Kinds without a namespace (the ones a kustomization could plausibly hold).
const clusterScoped = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
  "PriorityClass", "StorageClass", "PersistentVolume", "IngressClass",
  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
]);

let failures = 0;
let checked = 0;
for (const pair of pairs) {
  const at = pair.indexOf("=");
  const expected = pair.slice(0, at);
  const file = pair.slice(at + 1);
  const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((d) => d.toJS()).filter(Boolean);
  if (objects.length === 0) {
    console.log(`FAIL ${file}: rendered nothing`);
    failures++;
  }
  for (const object of objects) {
    if (clusterScoped.has(object.kind)) continue;
    checked++;
    const actual = object.metadata?.namespace;
    if (actual !== expected) {
      console.log(`FAIL ${path.basename(file)}: ${object.kind}/${object.metadata?.name} ` +
        `has namespace ${actual === undefined ? "(none)" : `"${actual}"`}, expected "${expected}"`);
      failures++;
    }
  }
}
if (failures) process.exit(1);
console.log(`ok: ${checked} namespaced objects in their namespace`);
