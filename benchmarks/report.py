"""Turn one target's records into its CSV, summary figures and PNG; print the comparison.

Times in the CSV and the PNG are seconds since the target's first POST.
The throughputs count over the window from that first POST to the last
202 (accepted) or the last time a transaction was first seen valid
(committed), so a slow drain lowers the committed figure as it should.
"""

import csv
import math

FIGURES = [
    # (summary key, label, unit)
    ("accepted_tx_per_s", "accepted", "tx/s"),
    ("committed_tx_per_s", "committed (POST to valid)", "tx/s"),
    ("post_202_p50_ms", "POST to 202 p50", "ms"),
    ("post_202_p95_ms", "POST to 202 p95", "ms"),
    ("post_202_p99_ms", "POST to 202 p99", "ms"),
    ("post_valid_p50_ms", "POST to valid p50", "ms"),
    ("post_valid_p95_ms", "POST to valid p95", "ms"),
    ("post_valid_p99_ms", "POST to valid p99", "ms"),
    ("get_per_s", "GET /transactions/{id}", "req/s"),
    ("get_server_us", "server CPU per GET", "µs"),
    ("rss_start_mb", "RSS at start", "MB"),
    ("rss_peak_mb", "RSS peak", "MB"),
    ("rss_end_mb", "RSS at end", "MB"),
    ("cpu_server_cores", "CPU used by the server", "cores"),
    ("cpu_harness_cores", "CPU used by the harness", "cores"),
    ("cpu_others_cores", "CPU used by anything else", "cores"),
]


def percentile(values, p):
    """The nearest-rank ``p``-th percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _rate(count, start, ends):
    return count / (max(ends) - start) if ends and max(ends) > start else 0.0


def summarize(records, gets, machine):
    """The figures of one target: counts, throughputs, latencies, GET rate, and ``machine``
    (``Monitor.summary()``: RSS and CPU)."""
    start = min(r.sent for r in records)
    accepted = [r for r in records if r.accepted is not None]
    valid = [r for r in records if r.valid is not None]
    summary = {
        "sent": len(records),
        "accepted": len(accepted),
        "valid": len(valid),
        "errors": sum(1 for r in records if r.error),
        "post_seconds": max(r.sent for r in records) - start,
        "accepted_tx_per_s": _rate(len(accepted), start, [r.accepted for r in accepted]),
        "committed_tx_per_s": _rate(len(valid), start, [r.valid for r in valid]),
    }
    for name, attribute in (("202", "accepted"), ("valid", "valid")):
        times = [(getattr(r, attribute) - r.sent) * 1000 for r in records if getattr(r, attribute) is not None]
        for p in (50, 95, 99):
            summary[f"post_{name}_p{p}_ms"] = percentile(times, p)
    summary["get_per_s"] = gets["per_second"] if gets else None
    after = machine.get("after_load")
    # every process of the server, the pipeline stages' idle polling included: what a GET costs the machine
    summary["get_server_us"] = after["server_cpu_s"] * 1e6 / gets["requests"] if gets and after else None
    summary.update(machine)
    phase = machine.get("load_phase")
    if phase and valid:  # where each committed transaction's CPU went
        summary["cpu_ms_per_tx"] = {stage: seconds * 1000 / len(valid) for stage, seconds in
                                    [*phase["stage_cpu_s"].items(), ("harness", phase["harness_cpu_s"]),
                                     ("anything else", phase["others_cpu_s"])]}
    return summary


def ratios(node, ceiling):
    """Each node figure divided by the ceiling's (None where either is missing or zero)."""
    return {key: node[key] / ceiling[key] if node.get(key) and ceiling.get(key) else None
            for key, _, _ in FIGURES}


def write_csv(path, records):
    start = min(r.sent for r in records)

    def since(t):
        return "" if t is None else f"{t - start:.6f}"

    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "sent", "accepted", "valid", "error"])
        for r in records:
            out.writerow([r.id, since(r.sent), since(r.accepted), since(r.valid), r.error])


def write_rss_csv(path, records, samples):
    """The RSS samples (seconds since the first POST, MB), to check growth beyond the summary."""
    start = min(r.sent for r in records)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["time", "rss_mb"])
        out.writerows([f"{t - start:.3f}", f"{rss / 2**20:.1f}"] for t, rss in samples)


def table(summaries, ratio=None):
    """The figures as text: one column per target (``{"node": summary, ...}``), then the ratio."""
    names = list(summaries)
    header = ["figure"] + names + (["node/ceiling"] if ratio else [])
    rows = [header]
    for key, label, unit in FIGURES:
        row = [f"{label} ({unit})"] + [_shown(summaries[name].get(key)) for name in names]
        if ratio:
            row.append(_shown(ratio[key], 2))
        rows.append(row)
    return "\n".join(_aligned(rows))


def _aligned(rows):
    """Lines of ``rows`` in columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows]


def cpu_table(summaries):
    """The load phase's CPU as text: per stage (and the harness, and the rest of the machine),
    in cores and in ms per committed transaction, one pair of columns per target; then per member."""
    phased = {name: summary for name, summary in summaries.items() if "cpu_ms_per_tx" in summary}
    if not phased:
        return ""
    stages = list(dict.fromkeys(stage for summary in phased.values() for stage in summary["cpu_ms_per_tx"]))
    rows = [["CPU, load phase"] + [f"{name} {unit}" for name in phased for unit in ("cores", "ms/tx")]]
    for stage in stages:
        row = [stage]
        for summary in phased.values():
            ms = summary["cpu_ms_per_tx"].get(stage)
            cores = None if ms is None else ms / 1000 * summary["valid"] / summary["load_phase"]["seconds"]
            row += [_shown(cores, 2), _shown(ms, 3)]
        rows.append(row)
    rows.append(["seconds"] + [cell for summary in phased.values()
                               for cell in (_shown(summary["load_phase"]["seconds"]), "")])
    lines = _aligned(rows)
    for name, summary in phased.items():
        phase = summary["load_phase"]
        if len(phase["member_cpu_s"]) > 1:
            lines.append(f"{name}, cores per member: " + ", ".join(
                f"{member} {seconds / phase['seconds']:.2f}" for member, seconds in phase["member_cpu_s"].items()))
    return "\n".join(lines)


def _shown(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def plot(path, title, records, rss_samples):
    """A PNG of throughput, latency and RSS over time, in one-second bins.

    Returns False, drawing nothing, where matplotlib (the ``bench`` extra) is
    not installed: the figures matter more than the picture.
    """
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    from matplotlib import pyplot

    start = min(r.sent for r in records)
    figure, (throughput, latency, memory) = pyplot.subplots(3, 1, figsize=(10, 10), sharex=True)
    figure.suptitle(title)
    for attribute, label in (("accepted", "accepted (202)"), ("valid", "committed (valid)")):
        throughput.plot(*_per_second([getattr(r, attribute) - start for r in records
                                      if getattr(r, attribute) is not None]), drawstyle="steps-post", label=label)
    throughput.set_ylabel("tx/s")
    for attribute, label in (("accepted", "POST to 202"), ("valid", "POST to valid")):
        done = [r for r in records if getattr(r, attribute) is not None]
        for p, style in ((50, "-"), (95, "--")):
            seconds, values = _binned_percentile(
                [(r.sent - start, (getattr(r, attribute) - r.sent) * 1000) for r in done], p)
            latency.plot(seconds, values, style, label=f"{label} p{p}")
    latency.set_ylabel("latency (ms, by second sent)")
    latency.set_yscale("log")
    memory.plot([t - start for t, _ in rss_samples], [rss / 2**20 for _, rss in rss_samples], label="RSS")
    memory.set_ylabel("RSS of all processes (MB)")
    memory.set_xlabel("seconds since the first POST")
    for axes in (throughput, latency, memory):
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return True


def _per_second(times):
    """``(bin starts, counts)`` of ``times`` in one-second bins, empty bins included."""
    if not times:
        return [], []
    counts = [0] * (int(max(times)) + 1)
    for t in times:
        counts[int(t)] += 1
    return list(range(len(counts))), counts


def _binned_percentile(points, p):
    """``(bin starts, p-th percentile)`` of ``(time, value)`` points in one-second bins."""
    bins = {}
    for t, value in points:
        bins.setdefault(int(t), []).append(value)
    seconds = sorted(bins)
    return seconds, [percentile(bins[s], p) for s in seconds]
