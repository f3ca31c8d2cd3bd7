// The forward-auth examples of k8s/examples/edge (docs/edge.md) against the
// geo deployment they sit next to.
//
// usage: node check_edge_examples.mjs NODE_MODULES BASE.yaml STANDARD_OUT.yaml EXAMPLE=RENDERED.yaml...
//
// - every URL an ingress asks (ingress-nginx auth-url, Traefik forwardAuth
//   address) is geo's Service, in its namespace, on the Service's HTTP port,
//   at /v1/authorize;
// - the headers the ingress passes on are geo's decision headers (X-Geo-*),
//   X-Geo-Country among them;
// - a NetworkPolicy of the example admits the ingress to the geo pods on the
//   container port behind that Service port (geo's own policy admits only its
//   namespace);
// - references inside an example resolve (ConfigMap of auth-proxy-set-headers,
//   Middleware of an IngressRoute);
// - Traefik objects, which have no schema here, are parsed and their fields
//   checked against the ForwardAuth fields Traefik documents.
// Objects of Kubernetes' own API groups are written to STANDARD_OUT.yaml for
// validate_manifests.mjs.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { check, tally } from "./check_tally.mjs";

const [nodeModules, baseFile, standardOut, ...examples] = process.argv.slice(2);
const YAML = await import(pathToFileURL(path.join(nodeModules, "yaml/dist/index.js")));
const load = (file) => YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);


// --- the geo deployment ---------------------------------------------------------
const base = load(baseFile);
const deployment = base.find((o) => o.kind === "Deployment" && o.metadata.name === "geo");
const service = base.find((o) => o.kind === "Service" && o.metadata.name === "geo");
if (!deployment || !service) {
  console.log(`FAIL ${baseFile}: no Deployment geo and Service geo`);
  process.exit(1);
}
// The manifests leave the namespace to `kubectl -n geo` (MAINTENANCE.md).
const namespace = service.metadata.namespace || "geo";
const podLabels = deployment.spec.template.metadata.labels;
const server = deployment.spec.template.spec.containers.find((c) => c.name === "geo-service");
const httpPort = service.spec.ports.find((p) => p.name === "http");
check(httpPort, `${baseFile}: Service geo has no port named http`);
const targetPort = typeof httpPort?.targetPort === "number"
  ? httpPort.targetPort
  : (server.ports || []).find((p) => p.name === (httpPort?.targetPort ?? "http"))?.containerPort;
const serviceHosts = [`geo.${namespace}.svc.cluster.local`, `geo.${namespace}.svc`, `geo.${namespace}`];

function checkAuthorizeUrl(where, text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    check(false, `${where}: "${text}" is not a URL`);
    return;
  }
  check(url.protocol === "http:", `${where}: ${text}: geo serves plain HTTP inside the cluster`);
  check(serviceHosts.includes(url.hostname), `${where}: ${text}: host is not Service geo in namespace ${namespace} (${serviceHosts.join(", ")})`);
  check(Number(url.port || 80) === httpPort?.port, `${where}: ${text}: port is not Service geo's http port ${httpPort?.port}`);
  check(url.pathname === "/v1/authorize" || url.pathname.startsWith("/v1/authorize/"), `${where}: ${text}: path is not /v1/authorize`);
}

function checkPassedHeaders(where, headers) {
  check(headers.length > 0, `${where}: passes no header of geo's answer on`);
  for (const h of headers) check(/^X-Geo-[A-Za-z-]+$/.test(h), `${where}: "${h}" is not one of geo's X-Geo-* headers`);
  for (const h of ["X-Geo-Country", "X-Geo-Decision", "X-Geo-Dry-Run"]) {
    check(headers.includes(h), `${where}: does not pass ${h} on`);
  }
}

const labelsMatch = (selector, labels) => Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v);

// Fields of Traefik's Middleware (forwardAuth) and IngressRoute that the
// examples may use: a typo would be dropped silently by the API server.
const traefikFields = {
  Middleware: { spec: ["forwardAuth"] },
  forwardAuth: ["address", "tls", "trustForwardHeader", "authResponseHeaders", "authResponseHeadersRegex",
    "authRequestHeaders", "addAuthCookiesToResponse", "headerField", "forwardBody", "maxBodySize",
    "preserveLocationHeader", "preserveRequestMethod"],
  IngressRoute: { spec: ["entryPoints", "routes", "tls", "parentRefs"] },
  route: ["match", "kind", "priority", "syntax", "middlewares", "services", "observability"],
};

const standard = [];
for (const arg of examples) {
  const [name, file] = arg.split("=");
  const objects = load(file);
  const before = tally.failures;
  const where = (o, rest = "") => `${name}: ${o.kind}/${o.metadata?.name}${rest}`;
  let authorizers = 0;
  for (const o of objects) {
    check(o.apiVersion && o.kind && o.metadata?.name && o.metadata?.namespace, `${name}: an object without apiVersion, kind, name or namespace`);
    const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
    if (group === "traefik.io" || group === "traefik.containo.us") {
      check(o.apiVersion.endsWith("/v1alpha1"), where(o, `: ${o.apiVersion} is not a Traefik API version`));
      const known = traefikFields[o.kind];
      check(known, where(o, ": not a Traefik kind the examples know"));
      for (const key of Object.keys(o.spec || {})) check(known?.spec.includes(key), where(o, `: unknown field spec.${key}`));
      if (o.kind === "Middleware" && o.spec.forwardAuth) {
        authorizers++;
        const fa = o.spec.forwardAuth;
        for (const key of Object.keys(fa)) check(traefikFields.forwardAuth.includes(key), where(o, `: unknown field forwardAuth.${key}`));
        checkAuthorizeUrl(where(o), fa.address);
        checkPassedHeaders(where(o, " authResponseHeaders"), fa.authResponseHeaders || []);
        check(fa.trustForwardHeader === false || fa.trustForwardHeader === undefined,
          where(o, ": trustForwardHeader true trusts whatever X-Forwarded-For a client sends unless the entry point filters it"));
      }
      if (o.kind === "IngressRoute") {
        for (const route of o.spec.routes || []) {
          for (const key of Object.keys(route)) check(traefikFields.route.includes(key), where(o, `: unknown field routes[].${key}`));
          for (const m of route.middlewares || []) {
            const ns = m.namespace || o.metadata.namespace;
            check(objects.some((x) => x.kind === "Middleware" && x.metadata.name === m.name && x.metadata.namespace === ns),
              where(o, `: middleware ${ns}/${m.name} is not in the example`));
          }
        }
      }
      continue;
    }
    standard.push(o);
    if (o.kind === "Ingress") {
      const a = o.metadata.annotations || {};
      const url = a["nginx.ingress.kubernetes.io/auth-url"];
      if (url) {
        authorizers++;
        checkAuthorizeUrl(where(o, " auth-url"), url);
        checkPassedHeaders(where(o, " auth-response-headers"),
          (a["nginx.ingress.kubernetes.io/auth-response-headers"] || "").split(",").map((s) => s.trim()).filter(Boolean));
        const setHeaders = a["nginx.ingress.kubernetes.io/auth-proxy-set-headers"];
        if (setHeaders) {
          const [ns, cm] = setHeaders.split("/");
          const configMap = objects.find((x) => x.kind === "ConfigMap" && x.metadata.name === cm && x.metadata.namespace === ns);
          check(configMap, where(o, `: auth-proxy-set-headers ${setHeaders} is not a ConfigMap of the example`));
          for (const h of ["X-Forwarded-Host", "X-Forwarded-Uri", "X-Forwarded-Method"]) {
            check(configMap?.data?.[h], where(o, `: ${setHeaders} does not set ${h} (geo's routes need it)`));
          }
        }
      }
    }
  }
  check(authorizers > 0, `${name}: nothing in the example asks geo`);
  const admits = objects.filter((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === namespace &&
    labelsMatch(o.spec.podSelector?.matchLabels, podLabels) &&
    (o.spec.ingress || []).some((rule) => (rule.ports || []).some((p) => p.port === targetPort || p.port === "http")));
  check(admits.length > 0, `${name}: no NetworkPolicy in namespace ${namespace} admits the ingress to the geo pods on port ${targetPort}`);
  console.log(`${tally.failures === before ? "ok  " : "FAIL"} ${name}: ${objects.length} objects`);
}

fs.writeFileSync(standardOut, standard.map((o) => YAML.stringify(o)).join("---\n"));
console.log(`edge examples: ${tally.checks} checks, ${tally.failures} failed`);
process.exit(tally.failures || tally.checks === 0 ? 1 : 0);
