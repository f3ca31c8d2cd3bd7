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
        row = target_row(render(result), "HTTP with City + ASN + Anonymous IP + ISP")
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
        self.assert_one_flag(result, "moved 20%", "64 connections")

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
        durations = sorted(100 + i for i in range(200))
        self.assertAlmostEqual(parsed["p99_ms"], durations[int(200 * 0.99)] / 1000.0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
