"""Statistics and verdicts of `make bench`, computed from a recorded result.

Everything here is a pure function of the result JSON that tools/bench/run.py
writes (format in tools/bench/README.md), so the report can be rendered again
from the data and the rules can be tested on hand-written results.

Rules:
- A comparison is a list of interleaved pairs; each pair holds one run of
  each role (e.g. nginx, geo). Its ratio is the median over pairs of the
  per-pair ratios, never the best of several runs: interference from other
  tenants hits whichever run it lands on, and a median of ratios taken side
  by side keeps a burst out without picking the flattering run.
- Every load run also records the server's CPU time: CPU per request
  compares what each request cost the servers even when the load generator,
  not the server, bound the run (the server's CPU utilisation says which).
- A run does not count (the report says so at the top) when the machine was
  busy: the 1-minute load average above a limit before the measurements
  started, other processes using CPU time during a pair, the ceiling
  (nginx `return 200`) below a floor, or the ceiling moving between pairs.
"""

import statistics

# Limits used when a result does not carry its own (run.py records the ones
# in force, so a report always renders with the limits it was measured
# against).
DEFAULT_LIMITS = {
    # 1-minute load average before the first measurement.
    "max_load_at_start": 0.5,
    # CPUs' worth of time used by processes other than the bench's own
    # during a pair (the load average cannot tell: the bench's own previous
    # pair keeps it near 2).
    "max_foreign_cpus": 0.25,
    # nginx `return 200` req/s, one worker, below which the machine (or the
    # load generator) was the bottleneck and any ratio to it flatters geo.
    "ceiling_floor_rps": 100000.0,
    # (max - min) / min of the ceiling over the pairs of one shape.
    "max_ceiling_spread": 0.15,
}

# The comparisons whose baseline is the nginx `return 200` ceiling, and that
# baseline's role name.
CEILING_COMPARISONS = ("http_32", "http_64")
CEILING_ROLE = "nginx"

# A median of fewer pairs than this is a best-of in disguise.
MIN_PAIRS = 3

# Server CPU per request, in µs, recorded with every load run (run.py reads
# the server's process tree's CPU time before and after the load). Results
# recorded before that carry no such field and render "not recorded".
CPU_FIELD = "cpu_us_per_request"
BUSY_FIELD = "server_busy"

# Server CPU utilisation (CPU seconds over wall seconds; the server is pinned
# to one CPU, so 1.0 is all of it) below which the server was not the
# bottleneck: the load generator, or the kernel's work between them, bound
# the run, and its req/s describes the load generator more than the server.
# Softirq time on the server's CPU is charged to whichever task it
# interrupts, so even a saturated server reads a little under 1.0.
SERVER_BOUND_BUSY = 0.85


def limits(result):
    merged = dict(DEFAULT_LIMITS)
    merged.update(result.get("run", {}).get("limits", {}))
    return merged


def median(values):
    """Median of the values that were measured (None when none was)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return statistics.median(present)


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def spread(values):
    """(max - min) / min of the measured values; None with fewer than two."""
    present = [v for v in values if v is not None]
    if len(present) < 2 or min(present) <= 0:
        return None
    return max(present) / min(present) - 1


def run_value(pair, role, field):
    run = pair.get("runs", {}).get(role)
    if run is None:
        return None
    return run.get(field)


def pair_ratios(comparison, numerator_role, denominator_role, field="rps"):
    """Per-pair ratio numerator / denominator of one field."""
    return [
        ratio(run_value(p, numerator_role, field), run_value(p, denominator_role, field))
        for p in comparison.get("pairs", [])
    ]


def median_ratio(comparison, numerator_role, denominator_role, field="rps"):
    return median(pair_ratios(comparison, numerator_role, denominator_role, field))


def role_values(comparison, role, field="rps"):
    return [run_value(p, role, field) for p in comparison.get("pairs", [])]


def role_median(comparison, role, field="rps"):
    return median(role_values(comparison, role, field))


def cpu_capacity_ratio(comparison, role, baseline_role):
    """Median over pairs of baseline CPU/request ÷ role CPU/request.

    The ratio of the requests each server answers per second of its own CPU
    (role relative to baseline): higher is better for `role`, and it holds
    whichever side bound the run. None when the result has no CPU fields.
    """
    return median_ratio(comparison, baseline_role, role, CPU_FIELD)


def cpu_recorded(comparison):
    """Whether any run of the comparison carries its server's CPU time."""
    return any(run_value(p, role, CPU_FIELD) is not None
               for p in comparison.get("pairs", []) for role in p.get("runs", {}))


def load_generator_bound(comparison, roles):
    """[(role, median busy)] of the roles whose server was not the bottleneck."""
    bound = []
    for role in roles:
        busy = role_median(comparison, role, BUSY_FIELD)
        if busy is not None and busy < SERVER_BOUND_BUSY:
            bound.append((role, busy))
    return bound


def role_total(comparison, role, field="failed"):
    values = [v for v in role_values(comparison, role, field) if v is not None]
    return sum(values) if values else None


def verdict(value, op, target):
    """'**met**' or '**missed** by N% (value vs target)'; op is '<=' or '>='."""
    if value is None:
        return "not measured"
    ok = value <= target if op == "<=" else value >= target
    if ok:
        return "**met**"
    if op == "<=":
        by = (value / target - 1) * 100
    else:
        by = (1 - value / target) * 100
    return "**missed** by %.0f%% (%.2f vs %s)" % (by, value, fmt_target(target))


def fmt_target(target):
    return ("%g" % target)


def all_pairs(result):
    """(comparison name, pair number from 1, pair) for every recorded pair."""
    for name, comparison in result.get("comparisons", {}).items():
        for index, pair in enumerate(comparison.get("pairs", []), start=1):
            yield name, index, pair


def flags(result):
    """Why this run does not count: a list of sentences, empty when it counts."""
    lim = limits(result)
    reasons = []
    run = result.get("run", {})

    load = run.get("load_before_measuring")
    if load is not None and load[0] > lim["max_load_at_start"]:
        reasons.append(
            "the 1-minute load average was %.2f before the measurements started "
            "(limit %.2f)" % (load[0], lim["max_load_at_start"]))

    measured = [("%s pair %d" % (name, index), pair.get("foreign_cpus"))
                for name, index, pair in all_pairs(result)]
    measured += list((name, sample.get("foreign_cpus"))
                     for name, sample in result.get("conditions", {}).items())
    busy = [(foreign, name) for name, foreign in measured
            if foreign is not None and foreign > lim["max_foreign_cpus"]]
    if busy:
        worst_cpus, worst = max(busy)
        reasons.append(
            "other processes used more than %.2f CPUs' worth of time during %d of the "
            "%d measured blocks (most: %.2f, %s; see Run conditions)" %
            (lim["max_foreign_cpus"], len(busy), len(measured), worst_cpus, worst))

    for name in CEILING_COMPARISONS:
        comparison = result.get("comparisons", {}).get(name)
        if comparison is None:
            continue
        ceilings = role_values(comparison, CEILING_ROLE)
        low = [v for v in ceilings if v is not None and v < lim["ceiling_floor_rps"]]
        if low:
            reasons.append(
                "the ceiling (nginx `return 200`, %s) was below %.0f req/s: %s" %
                (comparison.get("title", name), lim["ceiling_floor_rps"],
                 ", ".join("%.0f" % v for v in low)))
        moved = spread(ceilings)
        if moved is not None and moved > lim["max_ceiling_spread"]:
            reason = (
                "the ceiling (nginx `return 200`, %s) moved %.0f%% between pairs "
                "(limit %.0f%%): %s" %
                (comparison.get("title", name), moved * 100,
                 lim["max_ceiling_spread"] * 100,
                 ", ".join("%.0f" % v for v in ceilings if v is not None)))
            # nginx's own CPU per request tells the two causes apart: steady,
            # it was starved of CPU; moving with the req/s, the machine
            # itself ran faster or slower (a shared host), whatever the load
            # average says.
            costs = [v for v in role_values(comparison, CEILING_ROLE, "cpu_us_per_request")
                     if v is not None]
            cost_moved = spread(costs)
            if cost_moved is not None:
                reason += "; its CPU per request %.2f-%.2f µs (moved %.0f%%)" % (
                    min(costs), max(costs), cost_moved * 100)
            reasons.append(reason)
    short = [
        comparison.get("title", name)
        for name, comparison in result.get("comparisons", {}).items()
        if len(comparison.get("pairs", [])) < MIN_PAIRS
    ]
    if short:
        reasons.append("fewer than %d pairs were measured for: %s" %
                       (MIN_PAIRS, "; ".join(short)))
    return reasons
