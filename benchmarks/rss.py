"""Resident memory of a server: the sum over its supervisor and every descendant.

Sampled on a thread every ``interval`` seconds for the whole run, so the
report has the start, the peak and the end (a growing end-start gap over a
long run is a leak) and the PNG the curve.  RSS counts pages shared between
forked processes once per process, so the sum overstates real use; it is
still the right thing to watch for growth.
"""

import threading

import psutil

from benchmarks.client import clock

MB = 1024 * 1024


def tree_rss(processes):
    """Bytes resident in ``processes`` (psutil.Process objects); vanished ones count 0."""
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


class RssSampler:
    """Samples ``tree_rss(processes())`` now and every ``interval`` seconds until ``stop``."""

    def __init__(self, processes, interval=0.5):
        self.processes = processes
        self.interval = interval
        self.samples = []  # (clock(), bytes)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._sample()
        self._thread.start()
        return self

    def stop(self):
        self._stopped.set()
        self._thread.join()
        self._sample()

    def _run(self):
        while not self._stopped.wait(self.interval):
            self._sample()

    def _sample(self):
        self.samples.append((clock(), tree_rss(self.processes())))

    def summary(self):
        """RSS in MB at the first sample, at its peak and at the last sample."""
        values = [rss for _, rss in self.samples]
        return {"start": values[0] / MB, "peak": max(values) / MB, "end": values[-1] / MB}
