// Rules for the alert rules and the dashboard, beyond what promtool checks.
//
// usage: node check_monitoring.mjs NODE_MODULES ALERTS.yaml ALERTS_TEST.yaml
//            DASHBOARD.json METRICS_SOURCE_OR_BINARY...
//
// - every alert has a severity, a summary and a runbook_url that is
//   MAINTENANCE.md#<alert name in lower case>;
// - every alert has a promtool case where it fires and one where it is silent;
// - every geo metric named in an expression (alerts and dashboard), and every
//   process_* metric, is registered in the metrics sources
//   (server_metrics.cc, process_metrics.cc: a quoted literal) or
//   binaries (the updater: a NUL-terminated string), and every gRPC status named
//   in a status matcher is one the server emits.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { check, tally } from "./check_tally.mjs";

const [nodeModules, alertsFile, testsFile, dashboardFile, ...sources] = process.argv.slice(2);
const YAML = await import(pathToFileURL(path.join(nodeModules, "yaml/dist/index.js")));
const sourceText = sources.map((f) => fs.readFileSync(f).toString("latin1")).join("\n");
const known = (name) => sourceText.includes(`"${name}"`) || sourceText.includes(`\0${name}\0`);


function checkExpression(where, expr) {
  for (const [name] of expr.matchAll(/\b(?:geofence|geo_updater|process)_[a-z_]+\b/g)) {
    const base = name.replace(/_(bucket|sum|count)$/, "");
    check(known(base), `${where}: metric ${name} is not registered in ${sources.join(", ")}`);
  }
  for (const m of expr.matchAll(/status=~?"([^"]+)"/g)) {
    for (const status of m[1].split("|")) {
      check(known(status), `${where}: status "${status}" is no code name the server emits`);
    }
  }
}

const rules = YAML.parse(fs.readFileSync(alertsFile, "utf8")).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert);
check(alerts.length > 0, `${alertsFile}: no alerts`);
const names = new Set();
for (const rule of alerts) {
  const where = `${path.basename(alertsFile)}: ${rule.alert}`;
  check(!names.has(rule.alert), `${where}: defined twice`);
  names.add(rule.alert);
  check(["critical", "warning", "info"].includes(rule.labels?.severity), `${where}: severity must be critical, warning or info`);
  check(rule.annotations?.summary, `${where}: no summary`);
  check(rule.annotations?.runbook_url === `MAINTENANCE.md#${rule.alert.toLowerCase()}`,
    `${where}: runbook_url "${rule.annotations?.runbook_url}" is not MAINTENANCE.md#${rule.alert.toLowerCase()}`);
  checkExpression(where, rule.expr);
}

const tests = YAML.parse(fs.readFileSync(testsFile, "utf8")).tests.flatMap((t) => t.alert_rule_test || []);
for (const name of names) {
  const cases = tests.filter((t) => t.alertname === name);
  check(cases.some((t) => (t.exp_alerts || []).length > 0), `${path.basename(testsFile)}: no case where ${name} fires`);
  check(cases.some((t) => (t.exp_alerts || []).length === 0), `${path.basename(testsFile)}: no case where ${name} stays silent`);
}
for (const t of tests) check(names.has(t.alertname), `${path.basename(testsFile)}: tests unknown alert ${t.alertname}`);

const dashboard = JSON.parse(fs.readFileSync(dashboardFile, "utf8"));
const panels = dashboard.panels.filter((p) => p.type !== "row");
check(panels.length > 0, `${dashboardFile}: no panels`);
const ids = new Set();
for (const p of dashboard.panels) {
  check(!ids.has(p.id), `${dashboardFile}: panel id ${p.id} used twice`);
  ids.add(p.id);
}
for (const p of panels) {
  check((p.targets || []).length > 0, `${dashboardFile}: panel "${p.title}" has no query`);
  for (const t of p.targets || []) checkExpression(`${path.basename(dashboardFile)}: "${p.title}"`, t.expr);
}
const allExprs = panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
for (const topic of ["geofence_lookups_total", "geofence_lookup_duration_seconds_bucket", "geofence_database_age_seconds", "geo_updater_last_success_timestamp_seconds"]) {
  check(allExprs.includes(topic), `${dashboardFile}: nothing shows ${topic}`);
}

console.log(`monitoring: ${alerts.length} alerts, ${panels.length} panels, ${tally.checks} checks, ${tally.failures} failed`);
process.exit(tally.failures ? 1 : 0);
