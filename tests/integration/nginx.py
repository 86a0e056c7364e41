"""A real nginx in front of a local port, configured from docs/nginx.conf.

Tests put nginx before a node (or any HTTP server) exactly as
docs/reverse-proxy.md tells operators to, so the documented configuration is
the one under test: ``docs_site`` reads docs/nginx.conf and replaces only the
ports, the path prefix and the certificate paths; ``Nginx`` runs a site as a
foreground nginx whose pid file, logs and temporary files live in a private
directory, so it works as root and as an ordinary user.  The ``nginx_proxy``
fixture is the factory tests use; it skips the test when nginx is missing.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[2]
DOCS_CONFIG = REPO / "docs" / "nginx.conf"
SKIP_REASON = "nginx not installed (apt-get install nginx)"
# Debian installs nginx in /usr/sbin, which is not on an ordinary user's PATH.
_SBIN = os.pathsep.join(("/usr/local/sbin", "/usr/sbin", "/sbin"))
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")

_MAIN_CONFIG = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;
events {{
    worker_connections 256;
}}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def find_nginx():
    """The nginx executable, or None."""
    return shutil.which("nginx") or shutil.which("nginx", path=_SBIN)


def replace_line(text, pattern, replacement, count=1):
    """Replace whole lines matching ``pattern``, which must match ``count`` times (None: at least once).

    Loud on purpose: if docs/nginx.conf is edited so that a line the tests
    rely on is gone, the tests fail naming it instead of testing something else.
    """
    regex = re.compile(rf"^{pattern}$", re.MULTILINE)
    found = len(regex.findall(text))
    if found == 0 or (count is not None and found != count):
        expected = "at least once" if count is None else f"{count} time(s)"
        raise ValueError(f"expected a line matching {pattern!r} {expected}, found {found}")
    return regex.sub(replacement, text)


def docs_site(upstream_port, listen_port, prefix="/bigchaindb", tls_port=None, certificate=None,
              streams_port=None):
    """docs/nginx.conf for nginx on 127.0.0.1:``listen_port`` before 127.0.0.1:``upstream_port``
    (and the node's streams on 127.0.0.1:``streams_port``, if given).

    ``prefix`` replaces /bigchaindb in the path-prefix location.  With
    ``tls_port`` and ``certificate`` (a (certificate, key) pair of paths) the
    "#tls " lines are switched on, as the file tells operators to.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"a path prefix is /name[/name...], not {prefix!r}")
    text = DOCS_CONFIG.read_text(encoding="utf-8")
    text = replace_line(text, r"(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{listen_port};")
    text = replace_line(text, r"(\s*)server 127\.0\.0\.1:9984;", rf"\g<1>server 127.0.0.1:{upstream_port};")
    text = replace_line(text, r"(\s*)location /bigchaindb/ \{", rf"\g<1>location {prefix}/ {{")
    text = replace_line(text, r"(\s*)location /bigchaindb/api/v1/streams/ \{",
                        rf"\g<1>location {prefix}/api/v1/streams/ {{")
    if streams_port is not None:
        text = replace_line(text, r"(\s*)server 127\.0\.0\.1:9985;", rf"\g<1>server 127.0.0.1:{streams_port};")
    text = replace_line(text, r"(\s*)set \$forwarded_prefix /bigchaindb;", rf"\g<1>set $forwarded_prefix {prefix};")
    if tls_port is not None:
        cert, key = certificate
        text = replace_line(text, r"(\s*)#tls (.*)", r"\g<1>\g<2>", count=None)
        text = replace_line(text, r"(\s*)listen 443 ssl;", rf"\g<1>listen 127.0.0.1:{tls_port} ssl;")
        text = replace_line(text, r"(\s*)ssl_certificate\s+\S+;", rf"\g<1>ssl_certificate {cert};")
        text = replace_line(text, r"(\s*)ssl_certificate_key\s+\S+;", rf"\g<1>ssl_certificate_key {key};")
    return text


def self_signed_certificate(directory):
    """(certificate, key) paths of a fresh self-signed certificate for 127.0.0.1 and localhost."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed (apt-get install openssl)")
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class Nginx:
    """One nginx master process serving a site (configuration for the ``http`` block).

    ``start(render)`` calls ``render(http_port, tls_port)`` for the site text
    with two free ports (a site may leave the TLS one unused), and calls it
    again with new ports if another process took one before nginx bound it.
    """

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="nginx-")
        # As root, nginx's workers run as "nobody": they must be able to
        # enter this directory to write the request bodies they buffer.
        os.chmod(self.directory, 0o755)
        self.http_port = self.tls_port = None
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def tls_url(self):
        return f"https://127.0.0.1:{self.tls_port}"

    def start(self, render, attempts=3, timeout=10):
        executable = find_nginx()
        if executable is None:
            pytest.skip(SKIP_REASON)
        main = os.path.join(self.directory, "nginx.conf")
        with open(main, "w", encoding="utf-8") as handle:
            handle.write(_MAIN_CONFIG.format(dir=self.directory))
        for attempt in range(attempts):
            self.http_port, self.tls_port = free_port(), free_port()
            with open(os.path.join(self.directory, "site.conf"), "w", encoding="utf-8") as handle:
                handle.write(render(self.http_port, self.tls_port))
            with open(os.path.join(self.directory, "output.log"), "wb") as output:
                self.process = subprocess.Popen(
                    [executable, "-p", self.directory, "-c", main, "-g", "daemon off;"],
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
            if self._wait_until_listening(timeout):
                return self
            log = self.log()
            if "Address already in use" not in log or attempt == attempts - 1:
                self.stop()
                raise RuntimeError(f"nginx did not start:\n{log}")

    def _wait_until_listening(self, timeout):
        """True once nginx accepts connections, False if it exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.http_port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def log(self):
        """nginx's own output and error log, for failure messages."""
        parts = []
        for name in ("output.log", "error.log"):
            path = os.path.join(self.directory, name)
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    parts.append(handle.read())
        return "\n".join(parts)

    def stop(self, timeout=10):
        """Fast shutdown (SIGTERM), SIGKILL if it lingers, then remove the directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def nginx_proxy():
    """Factory: ``nginx_proxy(upstream_port, prefix="/bigchaindb", tls=False, streams_port=None)`` -> started Nginx.

    The proxy runs docs/nginx.conf in front of 127.0.0.1:``upstream_port``
    (with TLS switched on and a self-signed certificate when ``tls``); every
    proxy started is stopped after the test.
    """
    if find_nginx() is None:
        pytest.skip(SKIP_REASON)
    started = []

    def start(upstream_port, prefix="/bigchaindb", tls=False, streams_port=None):
        proxy = Nginx()
        started.append(proxy)
        certificate = self_signed_certificate(proxy.directory) if tls else None
        return proxy.start(lambda http_port, tls_port: docs_site(
            upstream_port, http_port, prefix, tls_port if tls else None, certificate, streams_port))

    yield start
    for proxy in started:
        proxy.stop()
