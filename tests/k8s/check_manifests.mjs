// Project rules for the rendered geo manifests, beyond schema validity.
//
// usage: node check_manifests.mjs NODE_MODULES SERVER_OPTIONS_CC UPDATER_BINARY
//            [--database FILE.mmdb] [--secret-template FILE] VARIANT=RENDERED.yaml...
// VARIANT is base, cronjob or scale (each has its topology rules).
//
// Ports are cross-checked against the programs: the server's defaults are read
// from what `geo_server --help` lists, then overridden by the container's env
// (GEO_*) or args (--flag=value) the way the server resolves them. Every
// environment variable given to a container must be one its program reads:
// the server's from that list, the updater's from the strings in the updater
// binary itself. The updater's status port must be set
// explicitly (GEO_UPDATER_STATUS_PORT), so no default is assumed.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { check, tally } from "./check_tally.mjs";

const argv = process.argv.slice(2);
const [nodeModules, serverHelp, updaterBinary] = argv.splice(0, 3);
const YAML = await import(pathToFileURL(path.join(nodeModules, "yaml/dist/index.js")));
let databaseFile = null;
let secretTemplate = null;
const variants = [];
while (argv.length) {
  const arg = argv.shift();
  if (arg === "--database") databaseFile = argv.shift();
  else if (arg === "--secret-template") secretTemplate = argv.shift();
  else {
    const [name, file] = arg.split("=");
    variants.push({ name, file });
  }
}

// --- what the programs really listen on --------------------------------------

function serverDefaults(text) {
  // `geo_server --help`: a setting is "  --grpc_port=<...>" (a boolean:
  // "  --metrics_tls[=true|false] ...") followed by its indented lines, among
  // them 'default: "50051"' and "environment: GEO_GRPC_PORT[, OTHER...]".
  const settings = {};
  let current = null;
  for (const line of text.split("\n")) {
    const flag = line.match(/^  --([a-z0-9_]+)(=|\[=)/);
    if (flag) {
      current = settings[flag[1]] = { env: undefined, envs: [], value: undefined };
      continue;
    }
    if (!current) continue;
    const value = line.match(/^ {6}default: "(.*)"$/);
    if (value) current.value = value[1];
    const env = line.match(/^ {6}environment: (.*)$/);
    if (env) {
      current.envs = env[1].split(", ");
      current.env = current.envs[0];
    }
  }
  for (const flag of ["grpc_port", "http_port", "metrics_port", "health_port", "drain_delay", "shutdown_timeout", "tls_cert_file"]) {
    if (!settings[flag] || !settings[flag].env) throw new Error(`${serverHelp}: no setting "${flag}" with its environment found`);
  }
  return settings;
}
const server = serverDefaults(fs.readFileSync(serverHelp, "utf8"));
const updaterStrings = fs.readFileSync(updaterBinary).toString("latin1");
const serverEnv = new Set(Object.values(server).flatMap((s) => s.envs));

// The value a program sees for `flag`: --flag=value / --flag value in args,
// else the env variable, else the default.
function effective(container, flag, env, fallback) {
  const args = container.args || [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(`--${flag}=`)) return args[i].slice(flag.length + 3);
    if (args[i] === `--${flag}` && i + 1 < args.length) return args[i + 1];
  }
  const e = (container.env || []).find((v) => v.name === env);
  if (e && e.value !== undefined) return e.value;
  return fallback;
}
function serverValue(container, flag) {
  return effective(container, flag, server[flag].env, server[flag].value);
}
function seconds(duration) {  // absl-style "5s", "1m30s", "500ms"
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let consumed = "";
  for (const m of duration.matchAll(re)) {
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
    consumed += m[0];
  }
  if (consumed !== duration) throw new Error(`cannot parse duration "${duration}"`);
  return total;
}
function bytes(quantity) {
  const m = String(quantity).match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/);
  if (!m) throw new Error(`cannot parse quantity "${quantity}"`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2]] || 1;
  return Number(m[1]) * unit;
}

// --- checks ------------------------------------------------------------------


function podSpecs(objects) {
  const specs = [];
  for (const o of objects) {
    if (o.kind === "Deployment") specs.push({ owner: o, template: o.spec.template });
    if (o.kind === "CronJob") specs.push({ owner: o, template: o.spec.jobTemplate.spec.template });
  }
  return specs;
}
const containersOf = (spec) => [...(spec.initContainers || []), ...(spec.containers || [])];
const envValue = (c, name) => (c.env || []).find((e) => e.name === name)?.value;
const isUpdater = (c) => /(^|\/)updater(:|@|$)/.test(c.image);
const isServer = (c) => /(^|\/)geo-server(:|@|$)/.test(c.image);
const labelsMatch = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);

function checkVariant(name, objects) {
  const where = (o, rest = "") => `${name}: ${o.kind}/${o.metadata.name}${rest}`;
  const kinds = new Set(objects.map((o) => o.kind));
  for (const kind of ["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "PodMonitor"]) {
    check(kinds.has(kind), `${name}: no ${kind} rendered`);
  }
  check(!kinds.has("Secret"), `${name}: a Secret is rendered; credentials must come from a Secret created out of band`);
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "geo");
  check(deployment, `${name}: no Deployment geo`);
  if (!deployment) return;
  const pod = deployment.spec.template;
  const serverContainer = pod.spec.containers.find((c) => c.name === "geo-service");
  check(serverContainer && isServer(serverContainer), `${name}: Deployment geo has no geo-service container running the geo-server image`);
  if (!serverContainer) return;

  // Images: pinned, never :latest.
  for (const { owner, template } of podSpecs(objects)) {
    for (const c of containersOf(template.spec)) {
      const lastPart = c.image.split("/").pop();
      const pinned = c.image.includes("@sha256:") || (lastPart.includes(":") && !lastPart.endsWith(":latest"));
      check(pinned, where(owner, ` container ${c.name}: image "${c.image}" has no tag or uses :latest`));
    }
  }

  // Security context and resources of every container.
  for (const { owner, template } of podSpecs(objects)) {
    const podSecurity = template.spec.securityContext || {};
    check(podSecurity.seccompProfile?.type === "RuntimeDefault", where(owner, ": pod seccompProfile is not RuntimeDefault"));
    for (const c of containersOf(template.spec)) {
      const s = c.securityContext || {};
      const at = where(owner, ` container ${c.name}`);
      check(s.runAsNonRoot === true || podSecurity.runAsNonRoot === true, `${at}: not runAsNonRoot`);
      check((s.runAsUser ?? podSecurity.runAsUser) > 0, `${at}: runAsUser is root or unset`);
      check(s.readOnlyRootFilesystem === true, `${at}: root filesystem is writable`);
      check(s.allowPrivilegeEscalation === false, `${at}: allowPrivilegeEscalation is not false`);
      check((s.capabilities?.drop || []).includes("ALL"), `${at}: capabilities not dropped (drop: [ALL])`);
      check(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory,
        `${at}: needs cpu and memory requests and a memory limit`);
    }
  }

  // Secrets only through Secret references.
  for (const { owner, template } of podSpecs(objects)) {
    const secretVolumes = new Set((template.spec.volumes || []).filter((v) => v.secret).map((v) => v.name));
    for (const c of containersOf(template.spec)) {
      const secretMounts = (c.volumeMounts || []).filter((m) => secretVolumes.has(m.name)).map((m) => m.mountPath);
      for (const e of c.env || []) {
        const at = where(owner, ` container ${c.name} env ${e.name}`);
        if (e.name.endsWith("_FILE")) {
          check(secretMounts.some((p) => e.value?.startsWith(`${p}/`)), `${at}: "${e.value}" is not inside a mounted Secret`);
        } else if (/LICENSE|ACCOUNT_ID|PASSWORD|SECRET|TOKEN|_KEY$/.test(e.name)) {
          check(e.valueFrom?.secretKeyRef?.name, `${at}: a credential must come from valueFrom.secretKeyRef, not a literal`);
        }
      }
      check(!(c.args || []).some((a) => /license|password|token/i.test(a)), where(owner, ` container ${c.name}: credential in args`));
    }
  }

  // Every variable is one the program reads (a typo would be silently ignored).
  for (const { owner, template } of podSpecs(objects)) {
    for (const c of containersOf(template.spec)) {
      for (const e of c.env || []) {
        const at = where(owner, ` container ${c.name} env ${e.name}`);
        // TMPDIR: where the server stages gRPC's verified TLS set (geo/tls).
        if (isServer(c)) check(serverEnv.has(e.name) || e.name === "TMPDIR", `${at}: not a setting of the server (geo_server --help)`);
        if (isUpdater(c)) {
          // A NUL-terminated string literal; *_FILE is the base name plus a suffix.
          const known = (n) => updaterStrings.includes(`${n}\0`);
          check(known(e.name) || (e.name.endsWith("_FILE") && known(e.name.slice(0, -5))), `${at}: the updater binary knows no such variable`);
        }
      }
    }
  }

  // Ports: what the server listens on (from its flags' defaults and overrides).
  const ports = {
    grpc: Number(serverValue(serverContainer, "grpc_port")),
    http: Number(serverValue(serverContainer, "http_port")),
    metrics: Number(serverValue(serverContainer, "metrics_port")),
    health: Number(serverValue(serverContainer, "health_port")),
  };
  const named = Object.fromEntries((serverContainer.ports || []).map((p) => [p.name, p.containerPort]));
  for (const [portName, port] of Object.entries(ports)) {
    check(named[portName] === port, `${name}: geo-service containerPort "${portName}" is ${named[portName]}, the server listens on ${port}`);
  }
  const resolve = (container, port) => {
    if (typeof port === "number") return port;
    return (container.ports || []).find((p) => p.name === port)?.containerPort;
  };
  const probes = ["startupProbe", "readinessProbe", "livenessProbe"];
  for (const probeName of probes) {
    const probe = serverContainer[probeName];
    check(probe, `${name}: geo-service has no ${probeName}`);
    if (!probe) continue;
    if (probe.grpc) {
      check(probe.grpc.port === ports.grpc, `${name}: geo-service ${probeName} gRPC port ${probe.grpc.port} is not the server's gRPC port ${ports.grpc}`);
    } else if (probe.httpGet) {
      const port = resolve(serverContainer, probe.httpGet.port);
      check(port === ports.http || port === ports.health, `${name}: geo-service ${probeName} HTTP port ${probe.httpGet.port} (${port}) is neither the server's HTTP port ${ports.http} nor its health port ${ports.health}`);
      check(["/healthz", "/readyz"].includes(probe.httpGet.path), `${name}: geo-service ${probeName} path ${probe.httpGet.path} is not /healthz or /readyz`);
    } else {
      check(false, `${name}: geo-service ${probeName} is neither gRPC health nor HTTP`);
    }
  }
  // With TLS on the gRPC port the kubelet's gRPC probes (plaintext) cannot
  // ask it; /readyz on the plaintext health port answers the same question.
  const servesTls = Boolean(envValue(serverContainer, "GEO_TLS_CERT_FILE"));
  const startup = serverContainer.startupProbe;
  check(startup?.grpc || (servesTls && startup?.httpGet?.path === "/readyz" && resolve(serverContainer, startup.httpGet.port) === ports.health),
    `${name}: the startup probe must ask gRPC health (NOT_SERVING until a database is loaded), or /readyz on the health port when gRPC serves TLS`);
  if (servesTls) {
    for (const probeName of probes) {
      check(!serverContainer[probeName]?.grpc, `${name}: geo-service ${probeName} is a gRPC probe on a TLS port`);
    }
  }
  check(serverContainer.livenessProbe?.httpGet?.path === "/healthz", `${name}: liveness must be /healthz (readiness turns false while draining)`);
  check(resolve(serverContainer, serverContainer.livenessProbe?.httpGet?.port) === ports.health,
        `${name}: liveness must use the health port ${ports.health} (clients can fill the HTTP port's connection slots)`);
  check(pod.metadata.annotations?.["prometheus.io/port"] === String(ports.metrics), `${name}: prometheus.io/port is not the metrics port ${ports.metrics}`);
  for (const c of containersOf(pod.spec).filter(isUpdater)) {
    const status = Number(effective(c, "status_port", "GEO_UPDATER_STATUS_PORT", "unset"));
    if (c === pod.spec.containers.find(isUpdater)) check(status > 0, `${name}: ${c.name} must set GEO_UPDATER_STATUS_PORT (or --status_port)`);
    for (const probeName of probes) {
      const probe = c[probeName];
      if (probe?.httpGet) check(resolve(c, probe.httpGet.port) === status, `${name}: ${c.name} ${probeName} port is not the updater's status port ${status}`);
    }
    if (c.ports) check(c.ports.some((p) => p.containerPort === status), `${name}: ${c.name} does not declare its status port ${status}`);
  }
  for (const service of objects.filter((o) => o.kind === "Service" && labelsMatch(o.spec.selector, pod.metadata.labels))) {
    for (const p of service.spec.ports) {
      const port = resolve(serverContainer, p.targetPort ?? p.port);
      check(Object.values(ports).includes(port), where(service, ` port ${p.name}: targetPort ${p.targetPort} is no port the server listens on`));
    }
  }
  for (const monitor of objects.filter((o) => o.kind === "PodMonitor")) {
    check(labelsMatch(monitor.spec.selector.matchLabels, pod.metadata.labels), where(monitor, ": selects no geo pod"));
    for (const endpoint of monitor.spec.podMetricsEndpoints) {
      const owner = containersOf(pod.spec).find((c) => (c.ports || []).some((p) => p.name === endpoint.port));
      check(owner, where(monitor, `: port "${endpoint.port}" is not a container port of the geo pod`));
    }
  }
  for (const o of objects.filter((x) => ["PodDisruptionBudget", "NetworkPolicy"].includes(x.kind) && x.metadata.name === "geo")) {
    const selector = o.kind === "NetworkPolicy" ? o.spec.podSelector.matchLabels : o.spec.selector.matchLabels;
    check(labelsMatch(selector, pod.metadata.labels), where(o, ": does not select the geo pods"));
  }
  const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler");
  check(hpa?.spec.scaleTargetRef.name === "geo" && hpa?.spec.scaleTargetRef.kind === "Deployment", `${name}: the autoscaler does not target Deployment geo`);
  check(deployment.spec.replicas === undefined, `${name}: Deployment geo sets replicas, which fights the autoscaler`);

  // Shutdown: preStop equals the drain delay; the grace period covers all.
  const drain = seconds(serverValue(serverContainer, "drain_delay"));
  const deadline = seconds(serverValue(serverContainer, "shutdown_timeout"));
  const preStop = serverContainer.lifecycle?.preStop?.sleep?.seconds;
  check(preStop === drain, `${name}: preStop sleep (${preStop}s) does not match the drain delay (${drain}s)`);
  const grace = pod.spec.terminationGracePeriodSeconds;
  check(grace >= (preStop || 0) + drain + deadline, `${name}: terminationGracePeriodSeconds ${grace} < preStop ${preStop} + drain ${drain} + shutdown ${deadline}`);

  // Memory sized from the database: 2 * D + 96 MiB (docs/deployment.md#sizing).
  if (databaseFile) {
    const size = fs.statSync(databaseFile).size;
    const need = 2 * size + 96 * 2 ** 20;
    const request = bytes(serverContainer.resources.requests.memory);
    check(request >= need, `${name}: geo-service memory request ${serverContainer.resources.requests.memory} < 2 * ${size} (${path.basename(databaseFile)}) + 96Mi`);
    check(bytes(serverContainer.resources.limits.memory) >= request, `${name}: geo-service memory limit below its request`);
  }

  // The data path: every mount of the shared volume uses one path; the server
  // reads, from that path, exactly the editions the updater writes there.
  const dataMounts = [];  // {owner, container, path, readOnly, volume}
  for (const { owner, template } of podSpecs(objects)) {
    for (const c of containersOf(template.spec)) {
      for (const m of c.volumeMounts || []) {
        const volume = (template.spec.volumes || []).find((v) => v.name === m.name);
        if (volume && (volume.emptyDir || volume.persistentVolumeClaim) && m.name === "geo-data") {
          dataMounts.push({ owner, container: c, path: m.mountPath, readOnly: m.readOnly === true, volume });
        }
      }
    }
  }
  const serverMount = dataMounts.find((m) => m.container === serverContainer);
  check(serverMount, `${name}: geo-service does not mount geo-data`);
  if (!serverMount) return;
  check(serverMount.readOnly, `${name}: geo-service mounts geo-data writable; the server only reads`);
  const writers = dataMounts.filter((m) => isUpdater(m.container));
  check(writers.length > 0, `${name}: no updater mounts geo-data`);
  for (const m of dataMounts.filter((x) => isServer(x.container) || isUpdater(x.container))) {
    check(m.path === serverMount.path, where(m.owner, ` container ${m.container.name}: mounts geo-data at ${m.path}, geo-service at ${serverMount.path}`));
  }
  const dbPaths = (serverValue(serverContainer, "db") || "").split(",").map((s) => s.trim()).filter(Boolean);
  check(dbPaths.length > 0, `${name}: geo-service has no GEO_DB_PATHS`);
  for (const p of dbPaths) check(path.dirname(p) === serverMount.path, `${name}: database ${p} is not in the shared volume ${serverMount.path}`);
  for (const w of writers) {
    const dir = effective(w.container, "data_dir", "GEO_DATA_DIR", "/data");
    check(dir === w.path, where(w.owner, ` container ${w.container.name}: GEO_DATA_DIR ${dir} is not its geo-data mount ${w.path}`));
    const editions = (envValue(w.container, "MAXMIND_EDITION_IDS") || "GeoLite2-City").split(",").map((s) => s.trim());
    const written = editions.map((e) => `${dir}/${e}.mmdb`).sort();
    check(JSON.stringify(written) === JSON.stringify([...dbPaths].sort()),
      where(w.owner, ` container ${w.container.name}: writes ${written.join(",")} but the server reads ${dbPaths.join(",")}`));
    check(!w.readOnly, where(w.owner, ` container ${w.container.name}: mounts geo-data read-only`));
  }

  // Topology rules.
  const init = (pod.spec.initContainers || []).find(isUpdater);
  const sidecar = pod.spec.containers.find(isUpdater);
  const cronJob = objects.find((o) => o.kind === "CronJob");
  const onceArg = (c) => (c.args || []).includes("--once") || envValue(c, "GEO_UPDATER_ONCE") === "true";
  if (name === "base" || name === "scale") {
    check(init && onceArg(init), `${name}: no updater initContainer running --once`);
    check(sidecar && !onceArg(sidecar), `${name}: no updater sidecar in loop mode`);
    check(serverMount.volume.emptyDir, `${name}: the pod's data volume is not an emptyDir`);
    check(sidecar?.name === "db-updater", `${name}: the sidecar is not named db-updater`);
  }
  if (name === "cronjob") {
    check(cronJob && onceArg(cronJob.spec.jobTemplate.spec.template.spec.containers[0]), `${name}: no updater CronJob running --once`);
    const claim = objects.find((o) => o.kind === "PersistentVolumeClaim");
    check(claim?.spec.accessModes.includes("ReadWriteMany"), `${name}: the shared claim is not ReadWriteMany`);
    const cronMount = dataMounts.find((m) => m.owner === cronJob);
    check(cronMount?.volume.persistentVolumeClaim?.claimName === claim?.metadata.name, `${name}: the CronJob does not write to the shared claim`);
  }
  if (name === "cronjob") {
    check(!init && !sidecar, `${name}: the Deployment still runs an updater`);
    check(serverMount.volume.persistentVolumeClaim?.readOnly === true, `${name}: the Deployment does not mount the claim read-only`);
  }
  if (name === "scale") {
    for (const c of [init, sidecar].filter(Boolean)) {
      check(/^https?:\/\/[^/]+\/.*\{edition\}/.test(envValue(c, "GEO_MIRROR_URL") || ""), `${name}: ${c.name} does not use the mirror (GEO_MIRROR_URL with {edition})`);
      check(!(c.env || []).some((e) => e.name.startsWith("MAXMIND_ACCOUNT") || e.name.startsWith("MAXMIND_LICENSE")), `${name}: ${c.name} still holds MaxMind credentials`);
    }
    const mirror = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "geo-mirror");
    const mirrorService = objects.find((o) => o.kind === "Service" && o.metadata.name === "geo-mirror");
    check(mirror && mirrorService, `${name}: no geo-mirror Deployment and Service`);
    const host = (envValue(sidecar || {}, "GEO_MIRROR_URL") || "").match(/^https?:\/\/([^/:]+)(?::(\d+))?/);
    check(host && host[1] === mirrorService?.metadata.name && Number(host[2] || 80) === mirrorService?.spec.ports[0].port,
      `${name}: GEO_MIRROR_URL does not point at the geo-mirror Service`);
    // The mirror is the updater's serve mode, from the project's image: the
    // only holder of the MaxMind credentials, in loop mode, on its own volume.
    const mirrorContainer = mirror?.spec.template.spec.containers[0];
    check(mirrorContainer && isUpdater(mirrorContainer) && (mirrorContainer.args || []).includes("--serve") && !onceArg(mirrorContainer),
      `${name}: geo-mirror does not run the updater image with --serve in loop mode`);
    check(envValue(mirrorContainer || {}, "GEO_UPDATER_SERVE_PORT") === String(mirrorService?.spec.ports[0].port),
      `${name}: geo-mirror does not serve on the Service's port`);
    check((mirrorContainer?.env || []).some((e) => e.name === "MAXMIND_ACCOUNT_ID"), `${name}: geo-mirror has no MaxMind credentials`);
    check(mirror?.spec.template.spec.volumes.find((v) => v.name === "geo-data")?.emptyDir, `${name}: geo-mirror's data volume is not an emptyDir`);
    for (const c of [init, sidecar].filter(Boolean)) {
      check((envValue(c, "GEO_MIRROR_SHA256_URL") || "").startsWith(`http://${mirrorService?.metadata.name}:`),
        `${name}: ${c.name} does not check the mirror's SHA256SUMS`);
    }
    check(!cronJob && !objects.some((o) => o.kind === "PersistentVolumeClaim"), `${name}: renders a CronJob or a claim; the mirror downloads itself`);
    // One image set: nothing but the project's images.
    for (const { owner, template } of podSpecs(objects)) {
      for (const c of containersOf(template.spec)) {
        check(isUpdater(c) || isServer(c), where(owner, ` container ${c.name}: image "${c.image}" is not one of the project's images`));
      }
    }
  }
  if (name === "base") {
    check(!cronJob, `${name}: the sidecar topology renders a CronJob`);
  }
}

for (const { name, file } of variants) {
  const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
  const before = tally.failures;
  try {
    checkVariant(name, objects);
  } catch (e) {
    check(false, `${name}: ${e.stack}`);
  }
  console.log(`${tally.failures === before ? "ok  " : "FAIL"} ${name}: ${objects.length} objects`);
}

if (secretTemplate) {
  for (const secret of YAML.parseAllDocuments(fs.readFileSync(secretTemplate, "utf8")).map((d) => d.toJS())) {
    check(secret.kind === "Secret", `${secretTemplate}: not a Secret`);
    for (const [key, value] of Object.entries({ ...secret.data, ...secret.stringData })) {
      check(value === "" || value === null, `${secretTemplate}: ${key} holds a value; the template must hold no credentials`);
    }
  }
}

console.log(`check: ${tally.checks} checks, ${tally.failures} failed`);
process.exit(tally.failures || tally.checks === 0 ? 1 : 0);
