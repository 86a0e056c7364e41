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
"""

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
    """Samples the RSS of ``processes()`` now and every ``interval`` seconds until ``stop``,
    and splits the machine's CPU between them, this process and the rest."""

    def __init__(self, processes, interval=0.5):
        self.processes = processes
        self.interval = interval
        self.samples = []  # (clock(), bytes)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._harness = psutil.Process(os.getpid())

    def start(self):
        self._cpu_start = self._cpu()
        self._sample()
        self._thread.start()
        return self

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
                "server": _each(self.processes(), _cpu_seconds)}

    def summary(self):
        """RSS in MB (first sample, peak, last sample) and CPU in cores (server, harness, others)."""
        values = [rss for _, rss in self.samples]
        start, end = self._cpu_start, self._cpu_end
        wall = end["at"] - start["at"]
        server = sum(seconds - start["server"].get(pid, 0.0) for pid, seconds in end["server"].items())
        harness = end["harness"] - start["harness"]
        others = end["busy"] - start["busy"] - server - harness
        return {"rss_start_mb": values[0] / MB, "rss_peak_mb": max(values) / MB, "rss_end_mb": values[-1] / MB,
                "cpu_server_cores": server / wall, "cpu_harness_cores": harness / wall,
                "cpu_others_cores": max(0.0, others) / wall}
