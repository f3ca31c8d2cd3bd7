#!/usr/bin/env python3
"""Renders a `make bench` result (JSON) into Markdown from a template.

    python3 tools/bench/report.py RESULT.json OUT.md [--template FILE]

The template (tools/bench/benchmarks.md.in) holds the prose; this module
fills in `$names` with figures, tables and verdicts computed by stats.py from
the recorded measurements. A name the template uses and the result cannot
fill fails the render (string.Template.substitute), so a template and a
renderer that drift apart are caught by the renderer's test.
"""

import argparse
import datetime
import json
import os
import string
import sys

import stats

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "benchmarks.md.in")

NOT_MEASURED = "n/a"
# A figure the result has no field for: recorded before the bench measured it.
NOT_RECORDED = "not recorded"


def num(value, digits=2):
    if value is None:
        return NOT_MEASURED
    return "%.*f" % (digits, value)


def percent(fraction, digits=0):
    if fraction is None:
        return NOT_MEASURED
    return "%.*f%%" % (digits, fraction * 100)


def times(value):
    return NOT_MEASURED if value is None else "%.2f×" % value


def load_text(load):
    if not load:
        return NOT_MEASURED
    return " ".join("%.2f" % v for v in load)


def mib(kib):
    return None if kib is None else kib / 1024.0


class Core:
    """The lookup core's medians (Google Benchmark aggregates)."""

    def __init__(self, core):
        self.benchmarks = core.get("benchmarks", [])
        self.raw = core.get("raw", "")

    def get(self, prefix, field="cpu_time"):
        for b in self.benchmarks:
            if b.get("run_name", "").startswith(prefix):
                return b.get(field)
        return None


def pair_table(comparison, columns):
    """One row per pair: columns are (header, function(pair) -> text)."""
    lines = ["| pair | " + " | ".join(h for h, _ in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for index, pair in enumerate(comparison.get("pairs", []), start=1):
        lines.append("| %d | " % index + " | ".join(f(pair) for _, f in columns) + " |")
    return "\n".join(lines)


def run_text(role, field, digits=2):
    return lambda pair: num(stats.run_value(pair, role, field), digits)


def ratio_text(numerator, denominator, field="rps"):
    return lambda pair: num(stats.ratio(stats.run_value(pair, numerator, field),
                                        stats.run_value(pair, denominator, field)))


def cpu_cell(value, digits=2, suffix=""):
    return NOT_RECORDED if value is None else "%.*f%s" % (digits, value, suffix)


def cpu_times(value):
    return NOT_RECORDED if value is None else "%.2f×" % value


def cpu_verdict(value, op, target):
    return NOT_RECORDED if value is None else stats.verdict(value, op, target)


# Per comparison: its roles with their labels, and its CPU cost ratios
# (role, baseline role, label: baseline CPU/request ÷ role CPU/request).
CPU_COMPARISONS = {
    "http": ([("nginx", "nginx `return 200`"), ("geoip2", "nginx + geoip2"), ("geo", "geo")],
             [("geo", "nginx", "nginx `return 200` ÷ geo"), ("geo", "geoip2", "nginx + geoip2 ÷ geo")]),
    "forward_auth": ([("check", "check"), ("authorize", "authorize")],
                     [("authorize", "check", "check ÷ authorize")]),
    "multi_db": ([("city", "City only"), ("all", "four databases")],
                 [("all", "city", "City only ÷ four databases")]),
    "grpc": ([("empty", "empty handler"), ("geo", "geo")], [("geo", "empty", "empty handler ÷ geo")]),
    "tls": ([("plain", "plaintext"), ("tls", "TLS")], [("tls", "plain", "plaintext ÷ TLS")]),
    "reload": ([("steady", "steady"), ("reloading", "during reloads")],
               [("reloading", "steady", "steady ÷ during reloads")]),
    "metrics": ([("off", "not scraped"), ("scraped", "scraped")],
                [("scraped", "off", "not scraped ÷ scraped")]),
}


def cpu_of(kind, comparison):
    roles, capacities = CPU_COMPARISONS[kind]
    return cpu_section(comparison, roles, capacities)


def cpu_section(comparison, roles, capacities):
    """The server CPU per request of one comparison: a table of the pairs, the
    median CPU cost ratios and which runs the load generator bound.

    roles: [(role, label)]; capacities: [(role, baseline role, label)], each
    ratio being baseline CPU/request ÷ role CPU/request (higher is better for
    the role).
    """
    if not stats.cpu_recorded(comparison):
        return "Server CPU per request: %s in this result." % NOT_RECORDED
    columns = []
    for role, label in roles:
        columns.append(("%s CPU µs/request" % label,
                        lambda p, role=role: cpu_cell(stats.run_value(p, role, stats.CPU_FIELD))))
        columns.append(("busy", lambda p, role=role: cpu_cell(
            None if stats.run_value(p, role, stats.BUSY_FIELD) is None
            else stats.run_value(p, role, stats.BUSY_FIELD) * 100, 0, "%")))
    for role, baseline, label in capacities:
        columns.append(("CPU cost %s" % label, lambda p, role=role, baseline=baseline: cpu_times(
            stats.ratio(stats.run_value(p, baseline, stats.CPU_FIELD),
                        stats.run_value(p, role, stats.CPU_FIELD)))))
    medians = "; ".join(
        "%s **%s**" % (label, cpu_times(stats.cpu_capacity_ratio(comparison, role, baseline)))
        for role, baseline, label in capacities)
    busy = ", ".join(
        "%s %s" % (label, cpu_cell(None if stats.role_median(comparison, role, stats.BUSY_FIELD) is None
                                   else stats.role_median(comparison, role, stats.BUSY_FIELD) * 100,
                                   0, "%"))
        for role, label in roles)
    labels = dict(roles)
    bound = stats.load_generator_bound(comparison, [role for role, _ in roles])
    if bound:
        bound_text = ("; ".join("%s: server CPU busy %.0f%%" % (labels[role], busy_share * 100)
                                for role, busy_share in bound) +
                      ": the load generator bound these runs, so their req/s and p99 ratios "
                      "describe it more than the servers (wrk times a request from its write, "
                      "so the time a connection waits in a saturated wrk is not counted, while "
                      "a saturated server's queue is); the CPU cost ratios still hold.")
    else:
        bound_text = ("Every server was at least %.0f%% busy: the servers bound these runs, "
                      "and the req/s and CPU cost ratios should tell the same story." %
                      (stats.SERVER_BOUND_BUSY * 100))
    return "\n\n".join([
        pair_table(comparison, columns),
        "CPU cost, median of the per-pair ratios of server CPU per request (higher is better "
        "for the second server named): %s. Server CPU busy, median over pairs: %s. %s" % (
            medians, busy, bound_text)])


def conditions_table(result):
    lines = ["| comparison | pair | load before | load after | other processes, CPUs "
             "| kernel threads, CPUs | stolen, CPUs | ceiling req/s |",
             "|---|---|---|---|---|---|---|---|"]
    blocks = [(name, "", sample) for name, sample in result.get("conditions", {}).items()]
    blocks += [(name, str(index), pair) for name, index, pair in stats.all_pairs(result)]
    for name, index, block in blocks:
        ceiling = ""
        if index and name in stats.CEILING_COMPARISONS:
            ceiling = num(stats.run_value(block, stats.CEILING_ROLE, "rps"), 0)
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, index, load_text(block.get("load_before")), load_text(block.get("load_after")),
            num(block.get("foreign_cpus")), num(block.get("kernel_cpus")),
            num(block.get("steal_cpus")), ceiling))
    return "\n".join(lines)


def banner(result, reasons):
    run = result.get("run", {})
    parts = []
    if run.get("quick"):
        parts.append(
            "> **QUICK MODE: NOT A MEASUREMENT.** Every point ran for %s s to test the "
            "bench's plumbing; none of these figures may be quoted or committed." %
            run.get("seconds"))
    if reasons:
        parts.append(
            "> **THIS RUN DOES NOT COUNT: the machine was busy, too slow or unsteady.** "
            "Its ratios are not the figures; only a run on a machine that meets the "
            "*Run conditions* below settles a target. Why:\n>\n" +
            "\n".join("> - " + r for r in reasons))
    if not parts:
        return ("This run counts: the machine was quiet before and during every pair, "
                "and the ceiling held within its limits (see *Run conditions*).")
    return "\n\n".join(parts)


def extra_databases_text(run):
    extra = run.get("extra_databases", [])
    if not extra:
        return "none found"
    return ", ".join("%s (`%s`, %s, %.1f KiB)" % (d["type"], d["file"], d["source"], d["bytes"] / 1024.0)
                     for d in extra)


def tls_section(result):
    """Section c2: the TLS tables, or why they were not measured."""
    comparisons = result.get("comparisons", {})
    tls = result.get("tls", {})
    if "tls_http" not in comparisons and "tls_grpc" not in comparisons:
        return "Not measured: %s." % tls.get("skipped", "no TLS runs in this result")
    parts = [
        "A second geo_server serves both listeners over TLS (`%s`; %s); the plaintext side is "
        "the geo_server of section b. Interleaved %s-second pairs, the order swapped from pair "
        "to pair; one handshake per connection, then keep-alive." % (tls.get("flags", "?"), tls.get("certificate", "?"),
                          result.get("run", {}).get("seconds", NOT_MEASURED))]
    for name, what, unit in (("tls_http", "HTTPS keep-alive against plain HTTP, 32 connections, "
                                          "the lookup rotation", "wrk"),
                             ("tls_grpc", "gRPC over TLS against plaintext, 16 × 16, one "
                                          "pre-framed Lookup", "h2load")):
        comparison = comparisons.get(name, {"pairs": []})
        parts.append("### %s (%s)" % (what, unit))
        parts.append(pair_table(comparison, [
            ("plaintext req/s", run_text("plain", "rps")),
            ("p99 ms", run_text("plain", "p99_ms", 3)),
            ("TLS req/s", run_text("tls", "rps")), ("p99 ms", run_text("tls", "p99_ms", 3)),
            ("TLS failed", run_text("tls", "failed", 0)),
            ("TLS ÷ plaintext (req/s, p99)", lambda p: ratio_text("tls", "plain")(p) + ", " +
             ratio_text("tls", "plain", "p99_ms")(p))]))
        parts.append("Median ratio %s (req/s), %s (p99)." % (
            times(stats.median_ratio(comparison, "tls", "plain")),
            times(stats.median_ratio(comparison, "tls", "plain", "p99_ms"))))
        parts.append(cpu_of("tls", comparison))
    return "\n\n".join(parts)


def values(result):
    run = result.get("run", {})
    comparisons = result.get("comparisons", {})
    empty = {"pairs": []}
    http32 = comparisons.get("http_32", empty)
    http64 = comparisons.get("http_64", empty)
    multi = comparisons.get("multi_db", empty)
    edge = comparisons.get("forward_auth", empty)
    grpc16 = comparisons.get("grpc_16x16", empty)
    grpc4 = comparisons.get("grpc_4x1", empty)
    reload_http = comparisons.get("reload_http", empty)
    reload_grpc = comparisons.get("reload_grpc", empty)
    metrics = comparisons.get("metrics", empty)
    lim = stats.limits(result)
    reasons = stats.flags(result)
    core = Core(result.get("core", {}))
    memory = result.get("memory", {})
    http = result.get("http", {})
    grpc = result.get("grpc", {})

    v = {}
    v["banner"] = banner(result, reasons)
    v["verdict_column"] = "verdict (this run does not count)" if reasons or run.get("quick") else "verdict"
    started = run.get("started_at")
    v["date"] = (datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
                 .strftime("%Y-%m-%d %H:%M UTC") if started else NOT_MEASURED)
    v["commit"] = "`%s`%s" % (run.get("commit", "?"),
                              " (working tree had uncommitted changes under geo/, tests/bench or tools/bench)"
                              if run.get("dirty") else "")
    v["cpus"] = str(run.get("cpus", NOT_MEASURED))
    v["cpu_model"] = run.get("cpu_model", NOT_MEASURED)
    v["kernel"] = run.get("kernel", NOT_MEASURED)
    v["load_at_start"] = load_text(run.get("load_at_start"))
    v["load_before_measuring"] = load_text(run.get("load_before_measuring"))
    v["load_at_end"] = load_text(run.get("load_at_end"))
    v["mode"] = ("quick (`BENCH_QUICK=1`: %s s per point, %s pairs)" if run.get("quick")
                 else "full (%s s per point, %s pairs)") % (run.get("seconds"), run.get("pairs"))
    db = run.get("database", {})
    v["database"] = "%s, %.1f MiB, build epoch %s" % (
        db.get("source", NOT_MEASURED), db.get("bytes", 0) / 1048576.0, db.get("build_epoch", NOT_MEASURED))
    v["extra_databases"] = extra_databases_text(run)
    v["duration"] = "%d s" % (run.get("finished_at", 0) - run.get("started_at", 0)) if run.get("finished_at") else NOT_MEASURED
    v["server_cpu"] = str(run.get("server_cpu", 0))
    v["load_cpu"] = str(run.get("load_cpu", 1))
    v["seconds"] = str(run.get("seconds", NOT_MEASURED))
    v["pairs"] = str(run.get("pairs", NOT_MEASURED))
    v["limit_load"] = "%.2f" % lim["max_load_at_start"]
    v["limit_foreign"] = "%.2f" % lim["max_foreign_cpus"]
    v["limit_floor"] = "%.0f" % lim["ceiling_floor_rps"]
    v["limit_spread"] = "%.0f%%" % (lim["max_ceiling_spread"] * 100)
    v["conditions_table"] = conditions_table(result)
    v["server_bound_busy"] = "%.0f%%" % (stats.SERVER_BOUND_BUSY * 100)
    for name, comparison in (("32", http32), ("64", http64)):
        v["ceiling_" + name] = num(stats.role_median(comparison, "nginx"), 0)
        v["ceiling_spread_" + name] = percent(stats.spread(stats.role_values(comparison, "nginx")))

    # a. lookup core.
    walk4, walk6 = core.get("BM_RawTreeWalk/0"), core.get("BM_RawTreeWalk/1")
    warm4, warm6 = core.get("BM_GeoStoreWarmCache/0"), core.get("BM_GeoStoreWarmCache/1")
    decode4, decode6 = core.get("BM_RawFullDecode/0"), core.get("BM_RawFullDecode/1")
    r_walk4, r_walk6 = stats.ratio(warm4, walk4), stats.ratio(warm6, walk6)
    r_decode4, r_decode6 = stats.ratio(decode4, warm4), stats.ratio(decode6, warm6)
    rows = []
    for label, bench in (
            ("raw tree walk (`MMDB_lookup_sockaddr`)", "RawTreeWalk"),
            ("geo's tree walk (`Database::Locate`: IPv4 from a /16 table, and the network's text)",
             "Locate"),
            ("raw full decode (+ `MMDB_get_entry_data_list`)", "RawFullDecode"),
            ("GeoStore, cache disabled", "GeoStoreUncached"),
            ("GeoStore, cold cache (first pass after a load)", "GeoStoreColdCache"),
            ("GeoStore, warm cache", "GeoStoreWarmCache"),
            ("… as the gRPC message (warm)", "GeoStoreMessage"),
            ("… as the HTTP JSON body (warm)", "GeoStoreJson")):
        n4, n6 = core.get("BM_%s/0" % bench), core.get("BM_%s/1" % bench)
        rows.append("| %s | %s | %s | %s | %s |" % (
            label, num(n4), num(stats.ratio(n4, walk4)), num(n6), num(stats.ratio(n6, walk6))))
    v["core_table"] = "\n".join(rows)
    v["found_v4"] = percent(core.get("BM_RawTreeWalk/0", "found"))
    v["found_v6"] = percent(core.get("BM_RawTreeWalk/1", "found"))
    v["cold_hit_v4"] = percent(core.get("BM_GeoStoreColdCache/0", "hit_rate"))
    v["cold_hit_v6"] = percent(core.get("BM_GeoStoreColdCache/1", "hit_rate"))
    v["warm_hit_v4"] = percent(core.get("BM_GeoStoreWarmCache/0", "hit_rate"))
    v["warm_hit_v6"] = percent(core.get("BM_GeoStoreWarmCache/1", "hit_rate"))
    v["r_walk_v4"], v["r_walk_v6"] = num(r_walk4), num(r_walk6)
    v["r_decode_v4"], v["r_decode_v6"] = num(r_decode4), num(r_decode6)
    v["distinct_v4"] = num(core.get("BM_RecordDistribution/0", "distinct_records"), 0)
    v["distinct_v6"] = num(core.get("BM_RecordDistribution/1", "distinct_records"), 0)
    v["best_hit_v4"] = percent(core.get("BM_RecordDistribution/0", "best_hit_rate"), 1)
    v["best_hit_v6"] = percent(core.get("BM_RecordDistribution/1", "best_hit_rate"), 1)
    v["cache_slots"] = num(core.get("BM_RecordDistribution/0", "cache_slots"), 0)
    render_ns = core.get("BM_RenderJsonOnly")
    metrics_ns = core.get("BM_MetricsPerCall")
    v["render_ns"], v["metrics_ns"] = num(render_ns), num(metrics_ns)
    v["core_raw"] = core.raw.rstrip("\n")

    # b. HTTP against nginx `return 200` and nginx + geoip2.
    h = {}
    for name, comparison in (("32", http32), ("64", http64)):
        h["ceiling_ratio_" + name] = stats.median_ratio(comparison, "geo", "nginx")
        h["geoip2_ratio_" + name] = stats.median_ratio(comparison, "geo", "geoip2")
        h["p99_ratio_" + name] = stats.median_ratio(comparison, "geo", "nginx", "p99_ms")
        h["geoip2_p99_ratio_" + name] = stats.median_ratio(comparison, "geo", "geoip2", "p99_ms")
        v["http_table_" + name] = pair_table(comparison, [
            ("nginx `return 200` req/s", run_text("nginx", "rps")),
            ("p99 ms", run_text("nginx", "p99_ms", 3)),
            ("nginx + geoip2 req/s", run_text("geoip2", "rps")),
            ("p99 ms", run_text("geoip2", "p99_ms", 3)),
            ("geo req/s", run_text("geo", "rps")),
            ("p99 ms", run_text("geo", "p99_ms", 3)),
            ("geo failed", run_text("geo", "failed", 0)),
            ("geo ÷ nginx (req/s, p99)", lambda p: ratio_text("geo", "nginx")(p) + ", " +
             ratio_text("geo", "nginx", "p99_ms")(p)),
            ("geo ÷ geoip2 (req/s, p99)", lambda p: ratio_text("geo", "geoip2")(p) + ", " +
             ratio_text("geo", "geoip2", "p99_ms")(p)),
        ])
        v["http_median_" + name] = (
            "Medians over the pairs: geo ÷ nginx `return 200` **%s** req/s, **%s** p99; "
            "geo ÷ nginx + geoip2 **%s** req/s, %s p99; geo failed requests %s." % (
                times(h["ceiling_ratio_" + name]), times(h["p99_ratio_" + name]),
                times(h["geoip2_ratio_" + name]), times(h["geoip2_p99_ratio_" + name]),
                num(stats.role_total(comparison, "geo"), 0)))
        h["cpu_ceiling_ratio_" + name] = stats.cpu_capacity_ratio(comparison, "geo", "nginx")
        h["cpu_geoip2_ratio_" + name] = stats.cpu_capacity_ratio(comparison, "geo", "geoip2")
        v["http_cpu_" + name] = cpu_of("http", comparison)
    v["warmup_rps"] = num(http.get("warmup_rps"))
    v["nginx_body_bytes"] = str(http.get("nginx_body_bytes", NOT_MEASURED))
    v["geo_body_bytes"] = str(http.get("geo_body_bytes", NOT_MEASURED))
    v["geoip2_fields"] = str(http.get("geoip2_fields", NOT_MEASURED))
    v["geoip2_body_bytes"] = str(http.get("geoip2_body_bytes", NOT_MEASURED))
    v["load_generator_rps"] = num(http.get("load_generator_rps"), 0)
    v["load_generator_busy"] = percent(http.get("load_generator_busy"))

    # b2. forward-auth against check.
    edge_ratio = stats.median_ratio(edge, "authorize", "check")
    edge_p99 = stats.median_ratio(edge, "authorize", "check", "p99_ms")
    v["edge_table"] = pair_table(edge, [
        ("check req/s", run_text("check", "rps")), ("check p99 ms", run_text("check", "p99_ms", 3)),
        ("authorize req/s", run_text("authorize", "rps")),
        ("authorize p99 ms", run_text("authorize", "p99_ms", 3)),
        ("ratio (req/s, p99)", lambda p: ratio_text("authorize", "check")(p) + ", " +
         ratio_text("authorize", "check", "p99_ms")(p))])
    v["edge_ratio"], v["edge_p99_ratio"] = num(edge_ratio), num(edge_p99)
    v["edge_failed"] = num(stats.role_total(edge, "authorize"), 0)
    v["edge_sample"] = http.get("forward_auth_headers", "").rstrip("\n")
    v["edge_cpu"] = cpu_of("forward_auth", edge)

    # b3. several databases.
    multi_ratio = stats.median_ratio(multi, "all", "city")
    v["multi_table"] = pair_table(multi, [
        ("City only req/s", run_text("city", "rps")), ("p99 ms", run_text("city", "p99_ms", 3)),
        ("City + ASN + Anonymous IP + ISP req/s", run_text("all", "rps")),
        ("p99 ms", run_text("all", "p99_ms", 3)), ("failed", run_text("all", "failed", 0)),
        ("ratio (req/s, p99)", lambda p: ratio_text("all", "city")(p) + ", " +
         ratio_text("all", "city", "p99_ms")(p))])
    v["multi_ratio"] = num(multi_ratio)
    v["multi_p99_ratio"] = num(stats.median_ratio(multi, "all", "city", "p99_ms"))
    v["multi_body_bytes"] = str(http.get("multi_body_bytes", NOT_MEASURED))
    v["multi_cpu"] = cpu_of("multi_db", multi)
    multi_cpu_ratio = stats.cpu_capacity_ratio(multi, "all", "city")

    # c. gRPC.
    g = {}
    for name, comparison in (("16", grpc16), ("4", grpc4)):
        g[name] = stats.median_ratio(comparison, "geo", "empty")
        v["grpc_table_" + name] = pair_table(comparison, [
            ("empty handler req/s", run_text("empty", "rps")),
            ("p99 ms", run_text("empty", "p99_ms", 3)),
            ("geo req/s", run_text("geo", "rps")), ("p99 ms", run_text("geo", "p99_ms", 3)),
            ("geo failed", run_text("geo", "failed", 0)),
            ("ratio to ceiling", ratio_text("geo", "empty"))])
        v["grpc_ratio_" + name] = num(g[name])
        v["grpc_p99_ratio_" + name] = num(stats.median_ratio(comparison, "geo", "empty", "p99_ms"))
        v["grpc_ceiling_spread_" + name] = percent(stats.spread(stats.role_values(comparison, "empty")))
        v["grpc_cpu_" + name] = cpu_of("grpc", comparison)
    v["grpc_errors_before"] = str(grpc.get("errors_before", NOT_MEASURED))
    v["grpc_errors_after"] = str(grpc.get("errors_after", NOT_MEASURED))
    v["grpc_check_ok"] = "yes" if grpc.get("check_ok") else "**no**"
    v["grpc_check"] = grpc.get("check_text", "").rstrip("\n")

    # c2. TLS.
    v["tls_section"] = tls_section(result)

    # d. reload under load.
    reload_ratios = {}
    failed_total = 0
    reload_counts = []
    for name, comparison in (("http", reload_http), ("grpc", reload_grpc)):
        reload_ratios[name] = stats.median_ratio(comparison, "reloading", "steady", "p99_ms")
        failed = stats.role_total(comparison, "reloading") or 0
        failed_total += failed
        count = stats.role_total(comparison, "reloading", "reloads") or 0
        reload_counts.append(count)
        v["reload_table_" + name] = pair_table(comparison, [
            ("reloads", run_text("reloading", "reloads", 0)),
            ("steady req/s", run_text("steady", "rps")),
            ("req/s during reloads", run_text("reloading", "rps")),
            ("p99 ms steady", run_text("steady", "p99_ms", 3)),
            ("p99 ms during reloads", run_text("reloading", "p99_ms", 3)),
            ("p99 ratio", ratio_text("reloading", "steady", "p99_ms")),
            ("failed", run_text("reloading", "failed", 0))])
        v["reload_p99_" + name] = num(reload_ratios[name])
        v["reload_rps_" + name] = num(stats.role_median(comparison, "reloading"))
        v["reload_steady_rps_" + name] = num(stats.role_median(comparison, "steady"))
        v["reload_cpu_" + name] = cpu_of("reload", comparison)
    v["reload_failed"] = "%d" % failed_total
    v["reload_counts"] = " + ".join("%d" % c for c in reload_counts)
    v["reload_seconds"] = str(result.get("reload", {}).get("seconds", NOT_MEASURED))
    v["reloads_per_run"] = str(result.get("reload", {}).get("reloads_per_run", NOT_MEASURED))
    v["reload_files"] = run.get("reload_files", NOT_MEASURED)

    # e. memory and descriptors.
    db_mib = db.get("bytes", 0) / 1048576.0
    steady_limit, reload_limit = db_mib + 64, 2 * db_mib + 64
    rss_steady = mib(memory.get("rss_steady_kb"))
    hwm_reload = mib(memory.get("hwm_after_reloads_kb"))
    v["steady_limit_mb"], v["reload_limit_mb"] = num(steady_limit, 1), num(reload_limit, 1)
    v["fds_start"] = str(memory.get("fds_start", NOT_MEASURED))
    v["rss_steady_mb"] = num(rss_steady, 1)
    v["hwm_steady_mb"] = num(mib(memory.get("hwm_steady_kb")), 1)
    v["fds_steady"] = str(memory.get("fds_steady", NOT_MEASURED))
    v["rss_peak_mb"] = num(mib(memory.get("rss_reload_peak_kb")), 1)
    v["hwm_mb"] = num(hwm_reload, 1)
    long = memory.get("long", {})
    v["long_done"] = str(long.get("done", NOT_MEASURED))
    v["long_seconds"] = str(long.get("seconds", NOT_MEASURED))
    v["long_stopped"] = ("; stopped by the time budget before %d" % long["requested"]
                         if long.get("done", 0) < long.get("requested", 0) else "")
    v["rss_long_mb"] = num(mib(long.get("rss_kb")), 1)
    v["fds_long"] = str(long.get("fds", NOT_MEASURED))
    v["maps_long"] = str(long.get("maps", NOT_MEASURED))
    fds_ok = long.get("fds") is not None and long.get("fds") == memory.get("fds_steady")

    # f. instrumentation.
    costs = [None if r is None else (1 - r) for r in stats.pair_ratios(metrics, "scraped", "off")]
    scrape_cost = stats.median(costs)
    per_request_ns = None
    geo_rps_32 = stats.role_median(http32, "geo")
    if geo_rps_32:
        per_request_ns = 1e9 / geo_rps_32
    record_share = stats.ratio(metrics_ns, per_request_ns)
    v["metrics_table"] = pair_table(metrics, [
        ("not scraped req/s", run_text("off", "rps")),
        ("scraped every 1 s req/s", run_text("scraped", "rps")),
        ("cost, 1 − scraped ÷ not scraped", lambda p: percent(
            None if stats.ratio(stats.run_value(p, "scraped", "rps"), stats.run_value(p, "off", "rps")) is None
            else 1 - stats.ratio(stats.run_value(p, "scraped", "rps"), stats.run_value(p, "off", "rps")), 1))])
    v["scrape_cost"] = percent(scrape_cost, 1)
    v["per_request_ns"] = num(per_request_ns, 0)
    v["record_share"] = percent(record_share, 2)
    v["metrics_pairs"] = str(len(metrics.get("pairs", [])))
    v["metrics_seconds"] = str(result.get("metrics_seconds", NOT_MEASURED))
    v["metrics_cpu"] = cpu_of("metrics", metrics)

    # Targets.
    tls_cpu = {name: stats.cpu_capacity_ratio(comparisons.get(name, empty), "tls", "plain")
               for name in ("tls_http", "tls_grpc")}
    targets = [
        ("GeoStore full response (warm cache) ≤ 1.5× raw tree walk, IPv4", times(r_walk4),
         stats.verdict(r_walk4, "<=", 1.5)),
        ("GeoStore full response ≥ 3× faster than raw full decode, IPv4", times(r_decode4),
         stats.verdict(r_decode4, ">=", 3)),
        ("same, IPv6: ≤ 1.5× tree walk / ≥ 3× faster than decode",
         "%s / %s" % (times(r_walk6), times(r_decode6)),
         "%s / %s" % (stats.verdict(r_walk6, "<=", 1.5), stats.verdict(r_decode6, ">=", 3))),
    ]
    for name in ("32", "64"):
        targets.append((
            "HTTP random IPs ≥ 0.80× nginx `return 200` req/s, %s conns (median of pairs)" % name,
            times(h["ceiling_ratio_" + name]), stats.verdict(h["ceiling_ratio_" + name], ">=", 0.80)))
        targets.append((
            "HTTP random IPs ≥ 1.4× nginx + geoip2 req/s, %s conns (median of pairs)" % name,
            times(h["geoip2_ratio_" + name]), stats.verdict(h["geoip2_ratio_" + name], ">=", 1.4)))
        targets.append((
            "HTTP random IPs, CPU cost: nginx `return 200` CPU/request ÷ geo CPU/request ≥ 0.80, "
            "%s conns (median of pairs)" % name,
            cpu_times(h["cpu_ceiling_ratio_" + name]),
            cpu_verdict(h["cpu_ceiling_ratio_" + name], ">=", 0.80)))
        targets.append((
            "HTTP random IPs, CPU cost: nginx + geoip2 CPU/request ÷ geo CPU/request ≥ 1.4, "
            "%s conns (median of pairs)" % name,
            cpu_times(h["cpu_geoip2_ratio_" + name]),
            cpu_verdict(h["cpu_geoip2_ratio_" + name], ">=", 1.4)))
    targets += [
        ("HTTP p99 ≤ 1.5× nginx `return 200` p99, 32 / 64 conns",
         "%s / %s" % (times(h["p99_ratio_32"]), times(h["p99_ratio_64"])),
         "%s / %s" % (stats.verdict(h["p99_ratio_32"], "<=", 1.5),
                      stats.verdict(h["p99_ratio_64"], "<=", 1.5))),
        ("HTTP with City + ASN + Anonymous IP + ISP ≥ 0.70× City only req/s, 32 conns",
         times(multi_ratio), stats.verdict(multi_ratio, ">=", 0.70)),
        ("HTTP with City + ASN + Anonymous IP + ISP, CPU cost: City only CPU/request ÷ all four "
         "CPU/request ≥ 0.70, 32 conns", cpu_times(multi_cpu_ratio),
         cpu_verdict(multi_cpu_ratio, ">=", 0.70)),
        ("forward-auth ≥ 90% of `/v1/check` req/s, p99 ≤ 1.1×, 32 conns",
         "%s req/s, %s p99" % (times(edge_ratio), times(edge_p99)),
         "%s / %s" % (stats.verdict(edge_ratio, ">=", 0.9), stats.verdict(edge_p99, "<=", 1.1))),
        ("TLS, CPU cost: plaintext CPU/request ÷ TLS CPU/request, HTTP / gRPC (no target: "
         "what TLS costs)", "%s / %s" % (cpu_times(tls_cpu["tls_http"]), cpu_times(tls_cpu["tls_grpc"])),
         "no target"),
        ("gRPC Lookup ≥ 85% of empty handler, 16×16", percent(g["16"]),
         stats.verdict(g["16"], ">=", 0.85)),
        ("reload under load: zero failed requests",
         "%d failed (%s reloads)" % (failed_total, v["reload_counts"]),
         "**met**" if failed_total == 0 and all(reload_counts) else "**missed**"),
        ("reload p99 ≤ 2× steady, HTTP / gRPC",
         "%s / %s" % (times(reload_ratios["http"]), times(reload_ratios["grpc"])),
         "%s / %s" % (stats.verdict(reload_ratios["http"], "<=", 2),
                      stats.verdict(reload_ratios["grpc"], "<=", 2))),
        ("metrics on vs off ≤ 5% throughput",
         "scraped every 1 s: %s (median of %s pairs); recording: %s of a request" % (
             v["scrape_cost"], v["metrics_pairs"], v["record_share"]),
         stats.verdict(None if scrape_cost is None else max(scrape_cost, 0) * 100, "<=", 5)),
        ("RSS steady ≤ file + 64 MiB (%s MiB)" % v["steady_limit_mb"], "%s MiB" % v["rss_steady_mb"],
         stats.verdict(rss_steady, "<=", round(steady_limit, 1))),
        ("RSS during reload ≤ 2× file + 64 MiB (%s MiB)" % v["reload_limit_mb"],
         "peak sampled %s MiB, VmHWM %s MiB" % (v["rss_peak_mb"], v["hwm_mb"]),
         stats.verdict(hwm_reload, "<=", round(reload_limit, 1))),
        ("open fds after %s reloads = baseline" % v["long_done"],
         "%s vs %s" % (v["fds_long"], v["fds_steady"]), "**met**" if fds_ok else "**missed**"),
    ]
    v["targets_table"] = "\n".join("| %s | %s | %s |" % t for t in targets)

    profile = result.get("profile", {})
    if profile.get("http"):
        v["profile"] = ("```\n%s\n```\n\n## Profile of geo_server under the gRPC load (16 × 16, same format)\n\n"
                        "```\n%s\n```" % (profile["http"].rstrip("\n"), profile.get("grpc", "").rstrip("\n")))
    else:
        v["profile"] = ("perf could not record here (perf_event_paranoid or a container without\n"
                        "perf events); use `valgrind --tool=callgrind` on lookup_benchmark instead.")
    v["commands"] = "\n".join(run.get("commands", []))
    return v


def render(result, template_text):
    return string.Template(template_text).substitute(values(result))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result")
    parser.add_argument("out")
    parser.add_argument("--template", default=TEMPLATE)
    args = parser.parse_args(argv)
    with open(args.result, encoding="utf-8") as f:
        result = json.load(f)
    with open(args.template, encoding="utf-8") as f:
        template_text = f.read()
    text = render(result, template_text)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    for reason in stats.flags(result):
        print("bench: THIS RUN DOES NOT COUNT: " + reason, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
