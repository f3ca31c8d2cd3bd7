#!/usr/bin/env bash
# promtool check rules + promtool test rules (Debian's prometheus package) for
# k8s/monitoring/alerts.yaml, then check_monitoring.mjs (runbooks, test coverage
# of every alert, metric names against the code), and schema validation of the
# PrometheusRule built from the same rules.
# usage: alerts_test.sh K8S_TOOLS_ROOT ALERTS TESTS DASHBOARD PROMETHEUS_RULE METRICS_SOURCE_OR_BINARY...
set -euo pipefail
tools=$(dirname "$(readlink -f "$1")")/data
alerts=$2 tests=$3 dashboard=$4 prometheus_rule=$5
shift 5
promtool=$(command -v promtool || echo /usr/bin/promtool)
work=${TEST_TMPDIR:-$(mktemp -d)}/promtool
rm -rf "$work" && mkdir -p "$work"
cp "$alerts" "$work/alerts.yaml"
cp "$tests" "$work/alerts_test.yaml"
"$promtool" check rules "$work/alerts.yaml"
(cd "$work" && "$promtool" test rules alerts_test.yaml)
node "$(dirname "$0")/check_monitoring.mjs" "$tools/node_modules" "$alerts" "$tests" "$dashboard" "$@"
node "$(dirname "$0")/validate_manifests.mjs" "$tools/node_modules" "$prometheus_rule"
