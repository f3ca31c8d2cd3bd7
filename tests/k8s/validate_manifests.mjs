// Validates rendered Kubernetes manifests against the Kubernetes API schemas.
//
// usage: node validate_manifests.mjs NODE_MODULES FILE.yaml...
//
// Two passes per object, both driven by npm's kubernetes-models (generated from
// the Kubernetes OpenAPI spec) and @kubernetes-models/prometheus-operator (from
// the operator's CRDs):
//   1. the package's compiled JSON-schema validator: types, enums, formats,
//      required fields;
//   2. unknown fields, which the OpenAPI schemas allow but the API server drops
//      or rejects (`kubectl apply --validate=strict`): every key is looked up in
//      the model's type declarations (.d.ts), recursively.
// An object whose apiVersion/kind has no model fails: nothing passes unchecked.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, ...files] = process.argv.slice(2);
if (!nodeModules || files.length === 0) {
  console.error("usage: validate_manifests.mjs NODE_MODULES FILE.yaml...");
  process.exit(2);
}
const YAML = await import(pathToFileURL(path.join(nodeModules, "yaml/dist/index.js")));

function modelFile(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = group === "monitoring.coreos.com"
    ? "@kubernetes-models/prometheus-operator"
    : group === "cert-manager.io"
    ? "@kubernetes-models/cert-manager"
    : "kubernetes-models";
  const dir = group === "" ? version : `${group}/${version}`;
  return path.join(nodeModules, pkg, dir, `${kind}.js`);
}

// --- unknown-field check from the .d.ts declarations -------------------------

const declarations = new Map();  // .d.ts file -> {props: Map(name -> type), imports}

function resolveImport(fromFile, spec) {
  let target;
  if (spec.startsWith(".")) {
    target = path.resolve(path.dirname(fromFile), spec);
  } else {
    target = path.join(nodeModules, spec);  // e.g. @kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta
  }
  target = target.replace(/\.js$/, "");
  return `${target}.d.ts`;
}

function declaration(file) {
  if (declarations.has(file)) return declarations.get(file);
  const text = fs.readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of m[1].split(",").map((s) => s.trim())) imports.set(name, resolveImport(file, m[2]));
  }
  // The first interface is the model's own; its properties are 4-space
  // indented `"name"?: Type;` lines (doc comments in between).
  const start = text.indexOf("export interface ");
  const body = text.slice(text.indexOf("{", start) + 1, text.indexOf("\n}", start));
  // A map-typed property spans lines (`{ [key: string]: T; }`): its type text
  // then names no model, so its keys are free-form.
  const props = new Map();
  for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) props.set(m[1], m[2].replace(/;$/, ""));
  const result = { props, imports };
  declarations.set(file, result);
  return result;
}

// Type text -> the .d.ts of the model it names, or null (primitive, map, union).
function refFile(decl, typeText) {
  const name = typeText.replace(/^Array<(.+)>$/, "$1").trim();
  return decl.imports.get(name) || null;
}

function unknownFields(value, file, where, errors) {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => unknownFields(item, file, `${where}/${i}`, errors));
    return;
  }
  const decl = declaration(file);
  if (decl.props.size === 0) return;  // IntOrString, Quantity, free-form JSON
  for (const [key, child] of Object.entries(value)) {
    const type = decl.props.get(key);
    if (type === undefined) {
      errors.push(`${where}/${key}: unknown field (known: ${[...decl.props.keys()].join(", ")})`);
      continue;
    }
    const next = refFile(decl, type);
    if (next && fs.existsSync(next)) unknownFields(child, next, `${where}/${key}`, errors);
  }
}

// --- main --------------------------------------------------------------------

let failures = 0;
let checked = 0;
for (const file of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) {
      console.log(`FAIL ${file}: YAML: ${doc.errors[0].message}`);
      failures++;
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    const id = `${file}: ${object.kind}/${object.metadata?.name}`;
    if (!object.apiVersion || !object.kind) {
      console.log(`FAIL ${id}: no apiVersion/kind`);
      failures++;
      continue;
    }
    const js = modelFile(object.apiVersion, object.kind);
    if (!fs.existsSync(js)) {
      console.log(`FAIL ${id}: no schema for ${object.apiVersion} ${object.kind}`);
      failures++;
      continue;
    }
    const errors = [];
    const module = await import(pathToFileURL(js));
    const Model = module[object.kind];
    try {
      new Model(object).validate();
    } catch (e) {
      errors.push(...String(e.message).split(/, (?=data\/)/));
    }
    unknownFields(object, js.replace(/\.js$/, ".d.ts"), "", errors);
    checked++;
    if (errors.length) {
      failures++;
      console.log(`FAIL ${id} (${object.apiVersion})`);
      for (const error of errors) console.log(`  ${error}`);
    } else {
      console.log(`ok   ${id} (${object.apiVersion})`);
    }
  }
}
console.log(`validate: ${checked} objects checked, ${failures} failed`);
process.exit(failures || checked === 0 ? 1 : 0);
