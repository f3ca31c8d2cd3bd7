"""The `make bench` report's rules, on hand-written results (no benchmark runs).

testdata/quiet_run.json is a run that counts, with pairs chosen so that the
median of per-pair ratios differs from both the best-of and the mean;
testdata/busy_run.json trips every "does not count" rule at once. Each rule is
also tripped alone on a copy of the quiet run. The parsers of wrk's and
h2load's output are checked on outputs of the kind they print.
"""

import copy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import unittest

import measure
import report
import stats

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(HERE, "testdata", name), encoding="utf-8") as f:
        return json.load(f)


def render(result):
    with open(report.TEMPLATE, encoding="utf-8") as f:
        return report.render(result, f.read())


def target_row(text, starts_with):
    rows = [line for line in text.splitlines() if line.startswith("| " + starts_with)]
    if len(rows) != 1:
        raise AssertionError("expected one row starting %r, found %r" % (starts_with, rows))
    return rows[0]


class MedianTest(unittest.TestCase):

    def test_ratio_is_the_median_of_per_pair_ratios(self):
        result = load("quiet_run.json")
        pairs = result["comparisons"]["http_32"]["pairs"]
        per_pair = [p["runs"]["geo"]["rps"] / p["runs"]["nginx"]["rps"] for p in pairs]
        median = statistics.median(per_pair)
        best_of = (max(p["runs"]["geo"]["rps"] for p in pairs) /
                   max(p["runs"]["nginx"]["rps"] for p in pairs))
        # The fixture is only useful if the three statistics disagree.
        self.assertNotAlmostEqual(median, best_of, places=2)
        self.assertNotAlmostEqual(median, statistics.mean(per_pair), places=2)

        self.assertAlmostEqual(stats.median_ratio(result["comparisons"]["http_32"], "geo", "nginx"),
                               median)
        row = target_row(render(result), "HTTP random IPs ≥ 0.80× nginx `return 200` req/s, 32 conns")
        self.assertIn("%.2f×" % median, row)
        self.assertIn("**met**", row)

    def test_median_decides_the_verdict(self):
        result = load("quiet_run.json")
        # Make the pair with the middle ratio the worst but one, below target:
        # the best pair alone would still meet it.
        pairs = result["comparisons"]["multi_db"]["pairs"]
        pairs[0]["runs"]["all"]["rps"] = 65000
        row = target_row(render(result), "HTTP with City + ASN + Anonymous IP + ISP ≥ 0.70×")
        self.assertIn("0.65×", row)
        self.assertIn("**missed**", row)

    def test_p99_ratio_is_a_median_too(self):
        result = load("quiet_run.json")
        comparison = result["comparisons"]["http_64"]
        expected = statistics.median(
            p["runs"]["geo"]["p99_ms"] / p["runs"]["nginx"]["p99_ms"] for p in comparison["pairs"])
        self.assertAlmostEqual(stats.median_ratio(comparison, "geo", "nginx", "p99_ms"), expected)

    def test_missing_measurements_are_not_measured(self):
        self.assertIsNone(stats.median([None, None]))
        self.assertEqual(stats.verdict(None, ">=", 1), "not measured")
        self.assertEqual(stats.median([3, None, 1, 2]), 2)


class VerdictTest(unittest.TestCase):

    def test_direction_and_margin(self):
        self.assertEqual(stats.verdict(0.8, ">=", 0.8), "**met**")
        self.assertEqual(stats.verdict(1.5, "<=", 1.5), "**met**")
        self.assertEqual(stats.verdict(0.6, ">=", 0.8), "**missed** by 25% (0.60 vs 0.8)")
        self.assertEqual(stats.verdict(3.0, "<=", 1.5), "**missed** by 100% (3.00 vs 1.5)")


class FlagTest(unittest.TestCase):

    def test_quiet_run_counts(self):
        result = load("quiet_run.json")
        self.assertEqual(stats.flags(result), [])
        text = render(result)
        self.assertNotIn("DOES NOT COUNT", text)
        self.assertIn("This run counts", text)
        self.assertIn("| target | measured | verdict |", text)

    def assert_one_flag(self, result, *words):
        reasons = stats.flags(result)
        self.assertEqual(len(reasons), 1, reasons)
        for word in words:
            self.assertIn(word, reasons[0])
        text = render(result)
        self.assertIn("THIS RUN DOES NOT COUNT", text)
        self.assertIn("verdict (this run does not count)", text)
        self.assertIn("> - " + reasons[0], text)
        return reasons[0]

    def test_load_average_before_measuring(self):
        result = load("quiet_run.json")
        result["run"]["load_before_measuring"] = [0.74, 0.3, 0.2]
        self.assert_one_flag(result, "load average was 0.74")

    def test_load_at_the_limit_counts(self):
        result = load("quiet_run.json")
        result["run"]["load_before_measuring"] = [0.5, 0.3, 0.2]
        self.assertEqual(stats.flags(result), [])

    def test_other_processes_during_a_pair(self):
        result = load("quiet_run.json")
        result["comparisons"]["grpc_4x1"]["pairs"][1]["foreign_cpus"] = 0.6
        self.assert_one_flag(result, "during 1 of the", "0.60, grpc_4x1 pair 2")

    def test_other_processes_during_the_lookup_core(self):
        result = load("quiet_run.json")
        result["conditions"]["lookup_core"]["foreign_cpus"] = 0.9
        self.assert_one_flag(result, "0.90, lookup_core")

    def test_ceiling_moved_between_pairs(self):
        result = load("quiet_run.json")
        # +20% in one pair, every pair above the floor.
        result["comparisons"]["http_64"]["pairs"][2]["runs"]["nginx"]["rps"] = 124000 * 1.2
        self.assert_one_flag(result, "moved 20%", "64 connections",
                             "CPU per request 7.80-7.80 µs (moved 0%)")

    def test_ceiling_moved_with_its_cpu_per_request(self):
        # A shared host running faster in one pair: nginx answered more
        # requests because each cost it less CPU, not because it had more.
        result = load("quiet_run.json")
        pairs = result["comparisons"]["http_32"]["pairs"]
        for pair, (rps, cost) in zip(pairs, [(120000, 8.0), (118000, 8.0), (150000, 6.4)]):
            pair["runs"]["nginx"].update(rps=rps, cpu_us_per_request=cost)
        self.assert_one_flag(result, "32 connections", "moved 27% between pairs",
                             "CPU per request 6.40-8.00 µs (moved 25%)")

    def test_ceiling_moved_just_inside_the_limit_counts(self):
        result = load("quiet_run.json")
        result["comparisons"]["http_64"]["pairs"][2]["runs"]["nginx"]["rps"] = 124000 * 1.149
        self.assertEqual(stats.flags(result), [])

    def test_ceiling_below_the_floor(self):
        result = load("quiet_run.json")
        # Every pair low but steady: the floor alone trips.
        for pair in result["comparisons"]["http_32"]["pairs"]:
            pair["runs"]["nginx"]["rps"] -= 30000
        self.assert_one_flag(result, "below 100000", "32 connections")

    def test_fewer_than_three_pairs(self):
        result = load("quiet_run.json")
        del result["comparisons"]["forward_auth"]["pairs"][2]
        self.assert_one_flag(result, "fewer than 3 pairs", "forward-auth")

    def test_busy_run_trips_every_rule(self):
        result = load("busy_run.json")
        reasons = stats.flags(result)
        joined = "\n".join(reasons)
        for expected in ("load average was", "other processes used more than", "below 100000",
                         "moved", "fewer than 3 pairs", "during 4 of the"):
            self.assertIn(expected, joined)
        text = render(result)
        banner = text.split("## Machine and run")[0]
        self.assertIn("THIS RUN DOES NOT COUNT", banner)
        for reason in reasons:
            self.assertIn(reason, banner)

    def test_quick_mode_is_never_a_measurement(self):
        result = load("quiet_run.json")
        result["run"]["quick"] = True
        text = render(result)
        self.assertIn("QUICK MODE: NOT A MEASUREMENT", text)
        self.assertIn("verdict (this run does not count)", text)

    def test_limits_recorded_with_the_run_are_used(self):
        result = load("quiet_run.json")
        result["run"]["limits"]["ceiling_floor_rps"] = 121000
        self.assert_one_flag(result, "below 121000")


class TemplateTest(unittest.TestCase):

    def test_every_placeholder_is_filled(self):
        text = render(load("busy_run.json"))
        self.assertIsNone(re.search(r"\$\{?[a-z_]+", text.replace("$uri", "").replace(
            "$lookup_ip", "").replace("$var", "")))

    def test_cli_writes_the_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "benchmarks.md")
            self.assertEqual(report.main([os.path.join(HERE, "testdata", "quiet_run.json"), out]), 0)
            with open(out, encoding="utf-8") as f:
                self.assertTrue(f.read().startswith("# Benchmarks"))

    def test_the_load_generator_alone_is_reported(self):
        http = load("quiet_run.json")["http"]
        text = render(load("quiet_run.json"))
        self.assertIn("made %.0f req/s, nginx\n%.0f%% busy" % (
            http["load_generator_rps"], http["load_generator_busy"] * 100), text)
        # Results from before the run existed: said, not invented.
        self.assertIn("made %s req/s" % report.NOT_MEASURED, render(load("busy_run.json")))

    def test_extra_databases_are_named(self):
        text = render(load("quiet_run.json"))
        for name in ("GeoLite2-ASN-Test.mmdb", "GeoIP2-Anonymous-IP-Test.mmdb", "GeoIP2-ISP-Test.mmdb"):
            self.assertIn(name, text)


class TlsSectionTest(unittest.TestCase):

    def test_tls_ratios_are_medians(self):
        result = load("quiet_run.json")
        text = render(result).split("## c2. TLS")[1].split("## d.")[0]
        for name in ("tls_http", "tls_grpc"):
            pairs = result["comparisons"][name]["pairs"]
            median = statistics.median(p["runs"]["tls"]["rps"] / p["runs"]["plain"]["rps"]
                                       for p in pairs)
            self.assertIn("Median ratio %.2f× (req/s)" % median, text)
        self.assertIn("--tls_cert_file=DIR/cert.pem", text)

    def test_skipped_tls_says_why(self):
        text = render(load("busy_run.json")).split("## c2. TLS")[1].split("## d.")[0]
        self.assertIn("Not measured: geo_server in this build has no TLS certificate flags", text)

    def test_tls_flags_from_help(self):
        # The shape of `geo_server --help`.
        help_text = ("  --db=<comma-separated list>\n      database files\n"
                     "  --tls_cert_file=<path>\n      PEM certificate chain\n"
                     "  --tls_key_file=<path>\n      PEM private key\n"
                     "  --tls_client_ca_file=<path>\n      PEM CA bundle\n"
                     "  --tls_client_auth=<off, request or require>\n")
        self.assertEqual(measure.tls_flags(help_text, "c.pem", "k.pem"),
                         ["--tls_cert_file=c.pem", "--tls_key_file=k.pem"])
        self.assertIsNone(measure.tls_flags("  --db (GEO_DB_PATHS)\n", "c.pem", "k.pem"))
        self.assertEqual(measure.tls_flags("", "c.pem", "k.pem", "--a={cert} --b={key}"),
                         ["--a=c.pem", "--b=k.pem"])


def section(text, start, end):
    return text.split(start, 1)[1].split(end, 1)[0]


def cpu_ratios(comparison, role, baseline):
    """Per-pair baseline CPU/request ÷ role CPU/request, from the fixture."""
    return [p["runs"][baseline]["cpu_us_per_request"] / p["runs"][role]["cpu_us_per_request"]
            for p in comparison["pairs"]]


class CpuCostTest(unittest.TestCase):
    """Server CPU per request: medians of per-pair capacity ratios, the Targets
    rows, which runs the load generator bound, and results without the fields."""

    def test_cpu_cost_is_the_median_of_per_pair_ratios(self):
        result = load("quiet_run.json")
        comparison = result["comparisons"]["http_32"]
        per_pair = cpu_ratios(comparison, "geo", "nginx")
        median = statistics.median(per_pair)
        of_medians = (statistics.median(p["runs"]["nginx"]["cpu_us_per_request"]
                                        for p in comparison["pairs"]) /
                      statistics.median(p["runs"]["geo"]["cpu_us_per_request"]
                                        for p in comparison["pairs"]))
        # The fixture is only useful if these disagree.
        self.assertNotAlmostEqual(median, of_medians, places=2)
        self.assertNotAlmostEqual(median, statistics.mean(per_pair), places=2)
        self.assertAlmostEqual(stats.cpu_capacity_ratio(comparison, "geo", "nginx"), median)

        text = render(result)
        row = target_row(text, "HTTP random IPs, CPU cost: nginx `return 200` CPU/request ÷ geo "
                               "CPU/request ≥ 0.80, 32 conns")
        self.assertIn("| %.2f× |" % median, row)
        self.assertIn("**met**", row)
        geoip2 = statistics.median(cpu_ratios(comparison, "geo", "geoip2"))
        row = target_row(text, "HTTP random IPs, CPU cost: nginx + geoip2 CPU/request ÷ geo "
                               "CPU/request ≥ 1.4, 32 conns")
        self.assertIn("| %.2f× |" % geoip2, row)
        # Next to the req/s ratios, in section b.
        http32 = section(text, "### 32 connections", "### 64 connections")
        self.assertIn("nginx `return 200` ÷ geo **%.2f×**; nginx + geoip2 ÷ geo **%.2f×**" %
                      (median, geoip2), http32)

    def test_cpu_verdict_is_its_own(self):
        result = load("quiet_run.json")
        # geo's CPU per request 20% higher in every pair: req/s unchanged.
        for pair in result["comparisons"]["http_32"]["pairs"]:
            pair["runs"]["geo"]["cpu_us_per_request"] *= 1.2
        expected = statistics.median(cpu_ratios(result["comparisons"]["http_32"], "geo", "nginx"))
        text = render(result)
        row = target_row(text, "HTTP random IPs, CPU cost: nginx `return 200` CPU/request ÷ geo "
                               "CPU/request ≥ 0.80, 32 conns")
        self.assertIn("%.2f×" % expected, row)
        self.assertIn("**missed**", row)
        row = target_row(text, "HTTP random IPs ≥ 0.80× nginx `return 200` req/s, 32 conns")
        self.assertIn("**met**", row)

    def test_multi_db_and_tls_cpu_rows(self):
        result = load("quiet_run.json")
        comparisons = result["comparisons"]
        text = render(result)
        multi = statistics.median(cpu_ratios(comparisons["multi_db"], "all", "city"))
        row = target_row(text, "HTTP with City + ASN + Anonymous IP + ISP, CPU cost")
        self.assertIn("| %.2f× | **met**" % multi, row)
        comparisons["multi_db"]["pairs"][0]["runs"]["all"]["cpu_us_per_request"] = 14.0
        self.assertIn("**missed**", target_row(
            render(result), "HTTP with City + ASN + Anonymous IP + ISP, CPU cost"))
        tls = [statistics.median(cpu_ratios(comparisons[name], "tls", "plain"))
               for name in ("tls_http", "tls_grpc")]
        row = target_row(text, "TLS, CPU cost")
        self.assertIn("%.2f× / %.2f×" % tuple(tls), row)
        tls_text = section(text, "## c2. TLS", "## d.")
        self.assertIn("plaintext ÷ TLS **%.2f×**" % tls[0], tls_text)

    def test_the_runs_the_load_generator_bound_are_named(self):
        result = load("quiet_run.json")
        text = render(result)
        geo_busy = statistics.median(p["runs"]["geo"]["server_busy"]
                                     for p in result["comparisons"]["http_32"]["pairs"])
        self.assertLess(geo_busy, stats.SERVER_BOUND_BUSY)
        http32 = section(text, "### 32 connections", "### 64 connections")
        self.assertIn("geo: server CPU busy %.0f%%: the load generator bound these runs" %
                      (geo_busy * 100), http32)
        self.assertNotIn("nginx `return 200`: server CPU busy", http32)
        http64 = section(text, "### 64 connections", "## b2.")
        self.assertNotIn("the load generator bound", http64)
        self.assertIn("Every server was at least 85% busy", http64)

    def test_results_without_cpu_fields_render_not_recorded(self):
        result = load("busy_run.json")
        self.assertFalse(any(stats.cpu_recorded(c) for c in result["comparisons"].values()))
        text = render(result)
        for start in ("HTTP random IPs, CPU cost: nginx `return 200` CPU/request ÷ geo "
                      "CPU/request ≥ 0.80, 64 conns",
                      "HTTP with City + ASN + Anonymous IP + ISP, CPU cost"):
            self.assertIn("| not recorded | not recorded |", target_row(text, start))
        http32 = section(text, "### 32 connections", "### 64 connections")
        self.assertIn("Server CPU per request: not recorded in this result.", http32)
        # One run without the fields in a result that has them: that cell only.
        # Its ratio is the median of the other pairs.
        result = load("quiet_run.json")
        pairs = result["comparisons"]["forward_auth"]["pairs"]
        del pairs[1]["runs"]["authorize"]["cpu_us_per_request"]
        edge = section(render(result), "## b2.", "## b3.")
        self.assertIn("| 2 | %.2f | %.0f%% | not recorded | %.0f%% | not recorded |" % (
            pairs[1]["runs"]["check"]["cpu_us_per_request"],
            pairs[1]["runs"]["check"]["server_busy"] * 100,
            pairs[1]["runs"]["authorize"]["server_busy"] * 100), edge)
        rest = statistics.median(p["runs"]["check"]["cpu_us_per_request"] /
                                 p["runs"]["authorize"]["cpu_us_per_request"]
                                 for p in (pairs[0], pairs[2]))
        self.assertIn("check ÷ authorize **%.2f×**" % rest, edge)

    def test_cpu_record(self):
        record = measure.cpu_record(2.0, 4.0, 400000)
        self.assertAlmostEqual(record["server_cpu_s"], 2.0)
        self.assertAlmostEqual(record["server_busy"], 0.5)
        self.assertAlmostEqual(record["cpu_us_per_request"], 5.0)
        self.assertIsNone(measure.cpu_record(1.0, 1.0, 0)["cpu_us_per_request"])

    def test_tree_cpu_ticks_counts_descendants_only(self):
        # {pid: (ppid, ticks)}: 10 is the server, 11 its worker, 12 a grandchild;
        # 20 is a stranger under the same parent.
        table = {1: (0, 1000), 10: (1, 100), 11: (10, 7), 12: (11, 3), 20: (1, 50)}
        self.assertEqual(measure.tree_cpu_ticks(10, table), 110)
        self.assertEqual(measure.tree_cpu_ticks(99, table), 0)

    def test_tree_cpu_ticks_survives_a_cycle_of_parents(self):
        # pid: (ppid, ticks). 20 and 21 name each other as parent, as a
        # snapshot taken while pids are reused can show.
        table = {10: (1, 5), 20: (21, 7), 21: (20, 11), 30: (10, 13)}
        self.assertEqual(measure.tree_cpu_ticks(10, table), 5 + 13)
        self.assertEqual(measure.tree_cpu_ticks(20, table), 7 + 11)

    def test_server_cpu_counts_a_reaped_child(self):
        # A parent that starts a child burning 0.3 s of CPU, reaps it, says so,
        # then waits: the child's time is in the parent's cutime by then.
        spin = "import time\nwhile time.process_time() < 0.3: pass"
        parent = ("import subprocess, sys\nsubprocess.run([sys.executable, '-c', %r])\n"
                  "print('done', flush=True)\nsys.stdin.read()" % spin)
        process = subprocess.Popen([sys.executable, "-c", parent], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE)
        try:
            with measure.ServerCpu(process.pid) as cpu:
                self.assertEqual(process.stdout.readline().strip(), b"done")
        finally:
            process.stdin.close()
            process.stdout.close()
            process.wait()
        self.assertGreaterEqual(cpu.cpu_s, 0.25)


class ParserTest(unittest.TestCase):

    WRK = """Running 10s test @ http://127.0.0.1:8080
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.00us  101.00us   5.20ms   90.00%
    Req/Sec    77.51k     2.10k   80.12k    70.00%
  Latency Distribution
     50%  390.00us
     75%  450.00us
     90%  520.00us
     99%    1.02ms
  775123 requests in 10.00s, 480.12MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  77512.30
Transfer/sec:     48.01MB
"""

    def test_wrk(self):
        parsed = measure.parse_wrk(self.WRK)
        self.assertEqual(parsed["rps"], 77512.30)
        self.assertAlmostEqual(parsed["p99_ms"], 1.02)
        self.assertEqual(parsed["failed"], 10)
        self.assertEqual(parsed["requests"], 775123)

    def test_wrk_units(self):
        self.assertAlmostEqual(measure.to_ms("512.00us"), 0.512)
        self.assertAlmostEqual(measure.to_ms("1.50s"), 1500)
        self.assertIsNone(measure.to_ms("fast"))

    def test_h2load(self):
        summary = """finished in 10.00s, 61509.90 req/s, 5.10MB/s
requests: 615099 total, 615099 started, 615099 done, 615097 succeeded, 2 failed, 1 errored, 0 timeout
"""
        # start time (us), status, duration (us)
        lines = ["%d %s %d\n" % (i, "200" if i != 7 else "503", 100 + i) for i in range(200)]
        parsed = measure.parse_h2load(summary, lines)
        self.assertEqual(parsed["rps"], 61509.90)
        self.assertEqual(parsed["failed"], 2 + 1 + 1)
        self.assertEqual(parsed["requests"], 615099)
        durations = sorted(100 + i for i in range(200))
        self.assertAlmostEqual(parsed["p99_ms"], durations[int(200 * 0.99)] / 1000.0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
