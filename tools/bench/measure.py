"""Process control, load generators and machine probes for `make bench`.

Servers run pinned to one CPU (`taskset -c`), the load generators to the
other; every process started here is registered with a Processes object that
kills it when the bench ends, however it ends. Parsers of wrk's and h2load's
output are plain functions of their text.
"""

import ctypes
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time


def log(message):
    print("bench: " + message, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------
# Processes.

def _die_with_parent():
    """In a child before exec: SIGTERM when the bench dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG, kept across exec


class Processes:
    """Every long-lived child of the bench; stop_all() ends them all."""

    def __init__(self):
        self.children = []

    def start(self, argv, cpu=None, log_path=None, **kwargs):
        if cpu is not None:
            argv = ["taskset", "-c", str(cpu)] + list(argv)
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                       preexec_fn=_die_with_parent, **kwargs)
        finally:
            if log_path:
                out.close()
        self.children.append(process)
        return process

    def stop(self, process, timeout=10):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.children:
            self.children.remove(process)

    def stop_all(self):
        for process in list(reversed(self.children)):
            self.stop(process, timeout=5)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise BenchError("timed out waiting for " + what)


def http_get(port, path, headers=None, timeout=5, cafile=None):
    """(status, [(header, value)], body) of a GET on 127.0.0.1 (HTTPS with cafile)."""
    if cafile:
        context = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, response.getheaders(), body
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Machine probes.

def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def _busy_ticks():
    """(busy, steal) jiffies of all CPUs: user + nice + system, and steal.

    Interrupt and softirq time are left out: loopback networking spends it on
    behalf of the bench's own processes without charging them.
    """
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system = fields[0], fields[1], fields[2]
    steal = fields[7] if len(fields) > 7 else 0
    return user + nice + system, steal


def _process_table():
    """{pid: (ppid, ticks)} with ticks = utime + stime + cutime + cstime."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                text = f.read()
        except OSError:
            continue
        rest = text[text.rfind(")") + 2:].split()
        # After the command: state ppid ... utime(14) stime(15) cutime(16) cstime(17),
        # numbered from 1 over the whole line; rest starts at field 3.
        ppid = int(rest[1])
        ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        table[int(entry)] = (ppid, ticks)
    return table


def cpu_ticks_by_owner(root=None):
    """(bench, kernel) CPU ticks: this process and all its descendants, living
    or reaped; and the kernel's threads (kthreadd and its children), whose
    work (softirqs, writeback) is done for every process, the bench's too.
    """
    root = root or os.getpid()
    table = _process_table()
    return tree_cpu_ticks(root, table), tree_cpu_ticks(2, table)


def tree_cpu_ticks(root, table=None):
    """CPU ticks of `root` and its descendants (utime + stime + cutime + cstime).

    A child reaped during the window moves its time into its parent's cutime,
    so the sum only grows; for nginx the tree is the master and its worker.
    """
    table = table if table is not None else _process_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    # /proc is read one process at a time, not atomically: with pids reused
    # meanwhile, the table can hold a cycle (A's parent B, B's parent A), so
    # each pid is visited once.
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, []))
    return total


class ServerCpu:
    """The CPU time a server's process tree spent over a block of load.

        with ServerCpu(pid) as cpu:
            outcome = run_the_load()
        outcome.update(cpu.record(outcome.get("requests")))

    The record holds `server_cpu_s` (user + system time, from /proc/PID/stat
    in clock ticks), `server_busy` (that time over the block's wall seconds:
    near 1.0 when the server's one CPU was the bottleneck, well below when
    the load generator was) and `cpu_us_per_request` (server CPU time over
    the requests the load generator saw completed). Time the kernel spends
    in softirqs on loopback traffic is charged to whichever task it
    interrupts, so it lands on either side and is not a server cost here.
    """

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.ticks0 = tree_cpu_ticks(self.pid)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.wall_s = max(time.monotonic() - self.t0, 1e-3)
        self.cpu_s = (tree_cpu_ticks(self.pid) - self.ticks0) / os.sysconf("SC_CLK_TCK")
        return False

    def record(self, requests):
        return cpu_record(self.cpu_s, self.wall_s, requests)


def cpu_record(cpu_s, wall_s, requests):
    """{"server_cpu_s", "server_busy", "cpu_us_per_request"} (None when no request completed)."""
    return {
        "server_cpu_s": round(cpu_s, 3),
        "server_busy": round(cpu_s / wall_s, 3),
        "cpu_us_per_request": round(cpu_s * 1e6 / requests, 3) if requests else None,
    }


class Conditions:
    """Load average before/after and other processes' CPU use over a block.

        with Conditions() as c:
            ...
        c.record  # {"load_before", "load_after", "foreign_cpus", "kernel_cpus", "steal_cpus"}

    foreign_cpus: CPUs' worth of user and system time that neither the bench's
    process tree nor the kernel's threads used, i.e. other tenants.
    """

    def __enter__(self):
        self.record = {"load_before": loadavg()}
        self.t0 = time.monotonic()
        self.busy0, self.steal0 = _busy_ticks()
        self.own0, self.kernel0 = cpu_ticks_by_owner()
        return self

    def __exit__(self, *exc):
        hz = os.sysconf("SC_CLK_TCK")
        elapsed = max(time.monotonic() - self.t0, 1e-3)
        busy1, steal1 = _busy_ticks()
        own1, kernel1 = cpu_ticks_by_owner()
        kernel = max(kernel1 - self.kernel0, 0)
        foreign = max((busy1 - self.busy0) - (own1 - self.own0) - kernel, 0)
        self.record["load_after"] = loadavg()
        self.record["foreign_cpus"] = round(foreign / hz / elapsed, 3)
        self.record["kernel_cpus"] = round(kernel / hz / elapsed, 3)
        self.record["steal_cpus"] = round((steal1 - self.steal0) / hz / elapsed, 3)
        return False


def proc_status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# ---------------------------------------------------------------------------
# wrk and h2load.

def to_ms(text):
    """wrk latency ('1.23ms', '512.00us', '1.02s') in milliseconds."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def parse_wrk(text):
    """{"rps", "p99_ms", "failed", "requests"} from `wrk --latency` output."""
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    requests = re.search(r"^\s+(\d+) requests in ", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    failed = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        failed += sum(int(x) for x in socket_errors.groups())
    return {
        "rps": float(rps.group(1)) if rps else None,
        "p99_ms": to_ms(p99.group(1)) if p99 else None,
        "failed": failed,
        "requests": int(requests.group(1)) if requests else None,
    }


def parse_h2load(summary, request_log_lines):
    """{"rps", "p99_ms", "failed", "requests"} from h2load's summary and --log-file lines.

    h2load's summary has no percentiles: p99 comes from its per-request log
    (start time, status, microseconds), and so does the count of answers that
    were not 200.
    """
    rps = re.search(r"^finished in .*?, ([0-9.]+) req/s", summary, re.M)
    requests = re.search(r"^requests: .*?(\d+) failed, (\d+) errored", summary, re.M)
    failed = int(requests.group(1)) + int(requests.group(2)) if requests else 0
    done = re.search(r"^requests: .*?(\d+) done,", summary, re.M)
    durations, not_200 = [], 0
    for line in request_log_lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        if parts[1] != "200":
            not_200 += 1
        durations.append(int(parts[2]))
    durations.sort()
    p99 = durations[int(len(durations) * 0.99)] / 1000.0 if durations else None
    return {"rps": float(rps.group(1)) if rps else None, "p99_ms": p99, "failed": failed + not_200,
            "requests": int(done.group(1)) if done else None}


class LoadGenerator:
    """wrk and h2load pinned to the load generator's CPU.

    Every run names the pid of the server it loads (`server`): the result
    carries that server's CPU time over the run (ServerCpu), so a run the
    load generator bound still tells what each request cost the server.
    """

    def __init__(self, cpu, work):
        self.cpu = cpu
        self.work = work

    def _run(self, argv, server, seconds):
        """(output text, ServerCpu over the run) of a load generator command."""
        with ServerCpu(server) as cpu:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=seconds + 30, check=False)
        return done.stdout.decode(errors="replace"), cpu

    @staticmethod
    def _log(name, result):
        log("%s: %.0f req/s, p99 %.3f ms, failed %d, server CPU %.2f µs/request, busy %.0f%%" % (
            name, result["rps"], result["p99_ms"] or -1, result["failed"],
            result["cpu_us_per_request"] or -1, result["server_busy"] * 100))

    def wrk(self, name, port, connections, seconds, script, server, scheme="http"):
        """A wrk run; `script` None sends one fixed `GET /` (no Lua per request)."""
        argv = ["taskset", "-c", str(self.cpu), "wrk", "-t1", "-c%d" % connections,
                "-d%ds" % seconds, "--timeout", "5s", "--latency"]
        argv += ["-s", script] if script else []
        argv.append("%s://127.0.0.1:%d" % (scheme, port))
        text, cpu = self._run(argv, server, seconds)
        with open(os.path.join(self.work, name + ".wrk"), "w") as f:
            f.write(text)
        result = parse_wrk(text)
        if result["rps"] is None:
            raise BenchError("wrk %s produced no result:\n%s" % (name, text))
        result.update(cpu.record(result["requests"]))
        self._log(name, result)
        return result

    def h2load(self, name, port, connections, streams, seconds, body, server, scheme="http"):
        """gRPC Lookup calls; scheme "https" is gRPC over TLS (ALPN h2)."""
        request_log = os.path.join(self.work, name + ".h2log")
        argv = ["taskset", "-c", str(self.cpu), "h2load", "-t1", "-c%d" % connections,
                "-m%d" % streams, "-D", str(seconds), "-d", body,
                "-H", "content-type: application/grpc", "-H", "te: trailers",
                "--log-file=" + request_log,
                "%s://127.0.0.1:%d/geo.v1.GeoService/Lookup" % (scheme, port)]
        text, cpu = self._run(argv, server, seconds)
        with open(os.path.join(self.work, name + ".h2load"), "w") as f:
            f.write(text)
        try:
            with open(request_log) as f:
                lines = f.readlines()
        except OSError:
            lines = []
        result = parse_h2load(text, lines)
        if result["rps"] is None:
            raise BenchError("h2load %s produced no result:\n%s" % (name, text))
        result.update(cpu.record(result["requests"]))
        self._log(name, result)
        return result


# ---------------------------------------------------------------------------
# TLS.

def make_certificate(directory):
    """A self-signed P-256 certificate for 127.0.0.1: (cert.pem, key.pem)."""
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return cert, key


def tls_flags(help_text, cert, key, template=None):
    """geo_server's flags serving `cert`/`key`, or None when it has no TLS flags.

    `template` (BENCH_TLS_FLAGS) wins: flags separated by spaces, with {cert}
    and {key} replaced. Otherwise the flags are found in `geo_server --help`:
    one flag whose name has tls and cert in it, one with tls and key.
    """
    if template:
        return [flag.format(cert=cert, key=key) for flag in template.split()]
    names = re.findall(r"^\s*--([a-z0-9_]+)", help_text, re.M)
    cert_flags = [n for n in names if "tls" in n and "cert" in n and "ca" not in n.split("_")]
    key_flags = [n for n in names if "tls" in n and "key" in n]
    if len(cert_flags) != 1 or len(key_flags) != 1:
        return None
    return ["--%s=%s" % (cert_flags[0], cert), "--%s=%s" % (key_flags[0], key)]


# ---------------------------------------------------------------------------
# Servers.

class GeoServer:
    """A geo_server pinned to one CPU, on ports the kernel picks."""

    def __init__(self, processes, binary, cpu, work, name, db_paths, policy, extra_flags=(),
                 scheme="http"):
        self.log_path = os.path.join(work, name + ".log")
        open(self.log_path, "w").close()
        argv = [binary, "--db=" + ",".join(db_paths), "--listen_address=127.0.0.1",
                "--grpc_port=0", "--http_port=0", "--metrics_port=0", "--health_port=0",
                "--trusted_proxies=127.0.0.1/32", "--policy=" + policy, "--http_threads=1",
                "--poll_interval=20ms", "--drain_delay=0s", "--log_level=info"] + list(extra_flags)
        self.argv = argv
        self.scheme = scheme
        self.process = processes.start(argv, cpu=cpu, log_path=self.log_path)
        serving = wait_for(self._serving_line, 20, name + " to serve")
        self.pid = self.process.pid  # taskset execs the server
        self.http_port = serving["http_port"]
        self.grpc_port = serving["grpc_port"]
        self.metrics_port = serving["metrics_port"]

    def _serving_line(self):
        if self.process.poll() is not None:
            with open(self.log_path) as f:
                raise BenchError("geo_server exited:\n" + f.read())
        with open(self.log_path) as f:
            for line in f:
                if '"msg":"Serving"' in line:
                    return json.loads(line)
        return None

    def reloads_done(self):
        with open(self.log_path) as f:
            return sum(1 for line in f if '"msg":"Database reloaded"' in line)

    def metric_sum(self, pattern):
        """Sum of the /metrics series whose line matches the regex."""
        _, _, body = http_get(self.metrics_port, "/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith("#") or not re.search(pattern, line):
                continue
            total += float(line.split()[-1])
        return int(total)


class Nginx:
    """nginx with one worker pinned to one CPU, from a generated config."""

    def __init__(self, processes, cpu, work, name, http_block, modules=()):
        self.dir = os.path.join(work, name)
        os.makedirs(os.path.join(self.dir, "body"), exist_ok=True)
        self.port = free_port()
        config = "\n".join(
            ["# Generated by tools/bench/measure.py: one worker, no access log."]
            + ["load_module %s;" % m for m in modules]
            + ["worker_processes 1;", "daemon off;", "pid %s/nginx.pid;" % self.dir,
               "error_log %s/error.log warn;" % self.dir,
               "events { worker_connections 4096; }",
               "http {", "  access_log off;", "  keepalive_requests 100000000;",
               "  client_body_temp_path %s/body;" % self.dir,
               http_block.replace("$PORT", str(self.port)), "}", ""])
        self.config_path = os.path.join(self.dir, "nginx.conf")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.process = processes.start(["nginx", "-p", self.dir, "-c", self.config_path], cpu=cpu,
                                       log_path=os.path.join(self.dir, "stdout.log"))
        self.pid = self.process.pid  # taskset execs the master; the worker is its child

        def answering():
            if self.process.poll() is not None:
                with open(os.path.join(self.dir, "error.log")) as f:
                    raise BenchError("nginx %s exited:\n%s" % (name, f.read()))
            try:
                return http_get(self.port, "/v1/lookup/81.2.69.160")
            except OSError:
                return None
        wait_for(answering, 10, "nginx " + name)
