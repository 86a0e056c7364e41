"""A real browser for tests: headless Chromium (Debian's ``chromium`` package).

``run_page(html)`` serves ``html`` from a web server of its own (so from an
origin of its own: another port than any node's), opens it in headless
Chromium, lets its scripts run, and returns the text of its element
``#result``.  A page puts there what it saw (e.g. the outcome of a
``fetch`` to a node), as JSON.

A machine without Chromium skips the tests that need it, saying why,
unless ``BIGCHAINDB_TEST_REQUIRE_CHROMIUM`` is set (.ci/run sets it, after
installing it), which makes a missing browser a failure instead.
"""

import html
import http.server
import os
import re
import shutil
import subprocess
import threading

import pytest

from tests.helpers import free_port

REQUIRE = "BIGCHAINDB_TEST_REQUIRE_CHROMIUM"
SKIP_REASON = "no Chromium (apt-get install chromium; .ci/run installs it)"
PAGE_TIMEOUT = 30  # seconds for Chromium to load a page and run its scripts
# Chromium waits this much virtual time for the page's fetches and timers
# before it writes the page out
VIRTUAL_TIME_MS = 10_000


def chromium():
    """The Chromium executable; skips the calling test (fails it under CI's requirement) when missing."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if os.environ.get(REQUIRE):
            pytest.fail(f"{REQUIRE} is set but there is {SKIP_REASON}")
        pytest.skip(SKIP_REASON)
    return binary


class PageServer:
    """A web server on 127.0.0.1 and a free port (the origin ``origin``) serving ``page`` at ``/``."""

    def __init__(self):
        self.page = ""
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        served = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = served.page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_page(server, page, profile):
    """Open ``page`` (HTML), served by ``server``, in headless Chromium with its profile in the
    directory ``profile``; the text the page's scripts left in its element ``#result``."""
    binary = chromium()
    server.page = page
    done = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
         f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", server.origin + "/"],
        capture_output=True, text=True, timeout=PAGE_TIMEOUT)
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.DOTALL)
    if found is None:
        raise AssertionError(f"Chromium wrote no #result (exit {done.returncode}):\n{done.stdout[-2000:]}\n"
                             f"{done.stderr[-2000:]}")
    return html.unescape(found.group(1))
