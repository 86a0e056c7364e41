"""Whether a node's stages are alive and keeping up: their heartbeats, and what ``GET /health`` makes of them.

The stages are processes of their own and the web server's workers others,
so they tell each other through files in the node's run directory, which
the supervisor makes anew at each start (``processes.RunDirectory``):

- ``stages.json``: the names of the stages the supervisor runs;
- ``stages/<name>.json``: the stage's last heartbeat, ``{"pid", "at",
  "lag"}``, written (at most every ``Heartbeat.every`` seconds) each time
  its loop comes around: when it has handled an item of its change feed,
  or found nothing new (feeds say so every fraction of a second), so an
  idle stage beats as well as a busy one.  ``lag`` is how old the item it
  handled last was (0 when idle): how far behind it runs.  The streams
  server (``bigchaindb.streams``) beats from its event loop, with the time
  since its slowest reader of the store last read as ``lag``.  The
  supervisor writes ``{"down": why}`` there when the stage dies.

Files rather than the store: liveness is this node's own business (the
store is shared by a federation), and reading six small files costs a
request next to nothing, whatever the load or the store's state.

A stage keeps up when its heartbeat is younger than ``limit`` seconds, its
lag is under ``limit``, and its process is there.  The limit is half of
``backlog_reassign_delay`` (2 s at least): a block stage slower than that loses the
transactions it was given to other nodes (see ``pipelines.block``), and
votes or elections that far behind hold up every transaction for as long.
"""

import json
import math
import os
import time

STAGES_FILE = "stages.json"
STAGES_DIRECTORY = "stages"


def limit_of(backlog_reassign_delay):
    """How far behind (in seconds) a stage may run and still keep up (2 s at least, for short test delays)."""
    return max(backlog_reassign_delay / 2, 2.0)


def seconds_since(timestamp):
    """Seconds from the unix time ``timestamp`` (a number, or its text as blocks and votes hold it) to now;
    0 for anything else (a row any federation member could have written)."""
    try:
        elapsed = time.time() - float(timestamp)
    except (TypeError, ValueError):
        return 0.0
    return elapsed if math.isfinite(elapsed) and elapsed > 0 else 0.0


def timestamp_in(document, section):
    """``document[section]["timestamp"]`` (a block's or a vote's), or None where a row has no such thing."""
    part = document.get(section) if isinstance(document, dict) else None
    return part.get("timestamp") if isinstance(part, dict) else None


class Heartbeat:
    """A stage's heartbeat: ``beat(lag)`` each time its loop comes around; a no-op without a run directory."""

    def __init__(self, run_directory=None, stage=None, limit=4.0):
        self.path = None if run_directory is None else os.path.join(run_directory, STAGES_DIRECTORY, f"{stage}.json")
        self.every = min(1.0, limit / 4)  # several beats within the limit
        self.due = 0.0

    def beat(self, lag=0.0):
        now = time.monotonic()
        if self.path is None or now < self.due:
            return
        self.due = now + self.every
        write_state(self.path, {"pid": os.getpid(), "at": time.time(), "lag": max(0.0, lag)})


def write_state(path, state):
    """Replace the file ``path`` with ``state`` in one step: a reader sees the old state or the new one."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(temporary, path)


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError:
        return {"down": "its heartbeat file is unreadable"}


def process_exists(pid):
    """Whether a process ``pid`` is there (a zombie not yet reaped by its parent counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's
    return True


def stage_problems(run_directory, limit):
    """Why the stages of the node whose run directory this is are not all alive and keeping up; [] if they are."""
    if run_directory is None:
        return ["no stage runs beside this web server (it was not started by `bigchaindb start`)"]
    stages = _read(os.path.join(run_directory, STAGES_FILE)) or []
    now = time.time()
    problems = []
    for stage in stages:
        state = _read(os.path.join(run_directory, STAGES_DIRECTORY, f"{stage}.json"))
        if state is None:
            problems.append(f"stage {stage} has not reported since it started")
        elif "down" in state:
            problems.append(f"stage {stage} is down: {state['down']}")
        elif not process_exists(state["pid"]):
            problems.append(f"stage {stage} (pid {state['pid']}) is gone")
        elif now - state["at"] > limit:
            problems.append(f"stage {stage} has not come around for {now - state['at']:.1f} s (limit {limit:g} s): "
                            "it is stuck")
        elif state["lag"] > limit:
            problems.append(f"stage {stage} is {state['lag']:.1f} s behind (limit {limit:g} s)")
    return problems
