"""What a server costs the machine during a run: its memory, and who used the CPU.

RSS is summed over the server's supervisor and every descendant and sampled
on a thread every ``interval`` seconds, so the report has the start, the peak
and the end (a growing end-start gap over a long run is a leak) and the PNG
the curve.  RSS counts pages shared between forked processes once per
process, so the sum overstates real use; it is still the right thing to
watch for growth.

CPU is split three ways over the same span, in cores used on average: the
server's processes, the harness's own, and everything else.  This machine
may be shared, and "others" says how far a figure was disturbed.

The server is one or more *sources* (the node, its database servers),
each with ``processes()`` and ``label(process)``, a ``(member, stage)``
pair such as ``("node1", "vote")``.  ``mark()`` ends the load phase (the
POSTs and following them to valid); over that phase the server's CPU is
also split by label: CPU seconds per
stage (summed over members) and per member, which divided by the
transactions committed say where each one's CPU went.
"""

import collections
import os
import threading

import psutil

from benchmarks.client import clock

MB = 1024 * 1024


def _each(processes, measure):
    """``{pid: measure(process)}``, skipping processes that are gone."""
    found = {}
    for process in processes:
        try:
            found[process.pid] = measure(process)
        except psutil.Error:
            pass
    return found


def _cpu_seconds(process):
    times = process.cpu_times()
    return times.user + times.system


def _busy_seconds():
    """CPU seconds the whole machine spent not idle, over all cores, since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class Monitor:
    """Samples the RSS of the processes of ``sources`` now and every ``interval`` seconds until
    ``stop``, and splits the machine's CPU between them, this process and the rest."""

    def __init__(self, sources, interval=0.5):
        self.sources = sources
        self.interval = interval
        self._cpu_mark = None
        self.samples = []  # (clock(), bytes)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._harness = psutil.Process(os.getpid())

    def start(self):
        self._cpu_start = self._cpu()
        self._sample()
        self._thread.start()
        return self

    def mark(self):
        """The load phase ends now: its CPU is split by stage and member in the summary."""
        self._cpu_mark = self._cpu()

    def stop(self):
        self._stopped.set()
        self._thread.join()
        self._sample()
        self._cpu_end = self._cpu()

    def _run(self):
        while not self._stopped.wait(self.interval):
            self._sample()

    def _sample(self):
        rss = _each(self.processes(), lambda process: process.memory_info().rss)
        self.samples.append((clock(), sum(rss.values())))

    def _cpu(self):
        return {"at": clock(), "busy": _busy_seconds(), "harness": _cpu_seconds(self._harness),
                "server": {pid: found for source in self.sources for pid, found in _each(
                    source.processes(), lambda process: (source.label(process), _cpu_seconds(process))).items()}}

    def processes(self):
        return [process for source in self.sources for process in source.processes()]

    def summary(self):
        """RSS in MB (first sample, peak, last sample) and CPU in cores (server, harness, others);
        after ``mark()``, the load phase's CPU seconds by stage and by member too, and the
        CPU seconds from the mark to the end (the GET phase: server, harness, others)."""
        values = [rss for _, rss in self.samples]
        start, end = self._cpu_start, self._cpu_end
        wall = end["at"] - start["at"]
        server, harness, others = _split(start, end)
        summary = {"rss_start_mb": values[0] / MB, "rss_peak_mb": max(values) / MB, "rss_end_mb": values[-1] / MB,
                   "cpu_server_cores": sum(server.values()) / wall, "cpu_harness_cores": harness / wall,
                   "cpu_others_cores": others / wall}
        if self._cpu_mark is not None:
            server, harness, others = _split(start, self._cpu_mark)
            stages, members = collections.Counter(), collections.Counter()
            for (member, stage), seconds in server.items():
                stages[stage] += seconds
                members[member] += seconds
            summary["load_phase"] = {"seconds": self._cpu_mark["at"] - start["at"], "harness_cpu_s": harness,
                                     "others_cpu_s": others, "stage_cpu_s": dict(stages.most_common()),
                                     "member_cpu_s": dict(sorted(members.items()))}
            server, harness, others = _split(self._cpu_mark, end)
            summary["after_load"] = {"seconds": end["at"] - self._cpu_mark["at"], "server_cpu_s": sum(server.values()),
                                     "harness_cpu_s": harness, "others_cpu_s": others}
        return summary


def _split(start, end):
    """CPU seconds from ``start`` to ``end`` (``Monitor._cpu`` readings): ``({label: server's},
    harness's, everyone else's)``.  A process that started meanwhile counts from zero."""
    server = collections.Counter()
    for pid, (label, seconds) in end["server"].items():
        server[label] += seconds - start["server"].get(pid, (label, 0.0))[1]
    harness = end["harness"] - start["harness"]
    others = end["busy"] - start["busy"] - sum(server.values()) - harness
    return server, harness, max(0.0, others)
