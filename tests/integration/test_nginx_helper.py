"""The documented nginx configurations, run by a real nginx before a header-echoing server.

docs/nginx.conf (one node) and docker/nginx.conf (the compose federation)
must hand the node everything it needs to name its public URL: the
X-Forwarded-* headers, the path with the prefix stripped, and must refuse
oversized bodies the way the node would.  A tiny HTTP server that answers
with the request it received stands in for the node, so this runs without
one; tests/integration/nginx.py is the helper under test as well.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bigchaindb import config
from tests.integration.nginx import DOCS_CONFIG, REPO, Nginx, replace_line
from tests.helpers import free_port

COMPOSE_CONFIG = REPO / "docker" / "nginx.conf"
MAX_BODY = config.DEFAULTS["server"]["max_body_size"]


class _Echo(BaseHTTPRequestHandler):
    """Answers any GET or POST with JSON: who answered, the path, the headers, the body length."""

    protocol_version = "HTTP/1.1"  # keep-alive, as nginx's upstream keepalive expects

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"server": self.server.name, "method": self.command, "path": self.path,
                           "headers": dict(self.headers), "body_length": length}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        """Quiet: the tests assert on answers, not on logs."""


@pytest.fixture
def echo_servers():
    """Factory: ``echo_servers(n)`` -> n running echo servers (each knows its name); stopped after the test."""
    running = []

    def start(count):
        servers = []
        for index in range(1, count + 1):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
            server.name = f"echo{index}"
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            servers.append(server)
        running.extend(servers)
        return servers

    yield start
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def echo(echo_servers):
    return echo_servers(1)[0]


def port_of(server):
    return server.server_address[1]


def echoed(response):
    assert response.status_code == 200, response.text
    return response.json()


def forwarded(seen):
    """The X-Forwarded-* headers the upstream received, by lower-case name."""
    return {name.lower(): value for name, value in seen["headers"].items() if name.lower().startswith("x-forwarded-")}


def test_root_location_tells_the_node_the_public_url(nginx_proxy, echo):
    proxy = nginx_proxy(port_of(echo))
    seen = echoed(requests.get(f"{proxy.url}/api/v1/transactions?asset_id=a1",
                               headers={"Host": "ledger.example.com"}))
    assert seen["path"] == "/api/v1/transactions?asset_id=a1"
    assert seen["headers"]["Host"] == "ledger.example.com"
    assert forwarded(seen) == {
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-proto": "http",
        "x-forwarded-host": "ledger.example.com",
        "x-forwarded-port": str(proxy.http_port),
    }


def test_client_cannot_forge_what_nginx_sets(nginx_proxy, echo):
    """Only X-Forwarded-For keeps the client's value, with the real address appended last."""
    proxy = nginx_proxy(port_of(echo))
    seen = echoed(requests.get(f"{proxy.url}/", headers={
        "Host": "ledger.example.com",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Port": "1",
        "X-Forwarded-Prefix": "/evil",
    }))
    assert forwarded(seen) == {
        "x-forwarded-for": "203.0.113.7, 127.0.0.1",
        "x-forwarded-proto": "http",
        "x-forwarded-host": "ledger.example.com",
        "x-forwarded-port": str(proxy.http_port),
    }


def test_prefix_is_stripped_and_announced(nginx_proxy, echo):
    proxy = nginx_proxy(port_of(echo))
    seen = echoed(requests.get(f"{proxy.url}/bigchaindb/api/v1/statuses/abc",
                               headers={"X-Forwarded-Prefix": "/evil"}))
    assert seen["path"] == "/api/v1/statuses/abc"
    assert forwarded(seen)["x-forwarded-prefix"] == "/bigchaindb"
    assert echoed(requests.get(f"{proxy.url}/bigchaindb/"))["path"] == "/"


def test_prefix_without_its_slash_redirects_relatively(nginx_proxy, echo):
    proxy = nginx_proxy(port_of(echo))
    response = requests.get(f"{proxy.url}/bigchaindb", allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"] == "/bigchaindb/"


def test_other_prefix(nginx_proxy, echo):
    proxy = nginx_proxy(port_of(echo), prefix="/ledger/v2")
    seen = echoed(requests.get(f"{proxy.url}/ledger/v2/api/v1/"))
    assert seen["path"] == "/api/v1/"
    assert forwarded(seen)["x-forwarded-prefix"] == "/ledger/v2"
    # Without the prefix a request goes to the root location, unchanged.
    seen = echoed(requests.get(f"{proxy.url}/bigchaindb/api/v1/"))
    assert seen["path"] == "/bigchaindb/api/v1/"
    assert "x-forwarded-prefix" not in forwarded(seen)


@pytest.mark.parametrize("path", ["/api/v1/transactions", "/bigchaindb/api/v1/transactions"])
def test_body_size_limit_is_the_nodes(nginx_proxy, echo, path):
    proxy = nginx_proxy(port_of(echo))
    assert echoed(requests.post(f"{proxy.url}{path}", data=b"x" * MAX_BODY))["body_length"] == MAX_BODY
    response = requests.post(f"{proxy.url}{path}", data=b"x" * (MAX_BODY + 1))
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": f"request body too large: at most {MAX_BODY} bytes", "status": 413}


@pytest.mark.parametrize("path", [DOCS_CONFIG, COMPOSE_CONFIG], ids=["docs", "compose"])
def test_configured_limit_equals_the_node_default(path):
    text = path.read_text(encoding="utf-8")
    assert re.findall(r"^\s*client_max_body_size (\d+);$", text, re.MULTILINE) == [str(MAX_BODY)]
    assert f"at most {MAX_BODY} bytes" in text


def test_node_down_gives_json_502(nginx_proxy):
    proxy = nginx_proxy(free_port())  # nothing listens there
    response = requests.get(f"{proxy.url}/api/v1/")
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == 502


def test_tls_termination(nginx_proxy, echo):
    """With the "#tls " lines switched on, HTTPS requests reach the node as https on the TLS port."""
    proxy = nginx_proxy(port_of(echo), tls=True)
    certificate = f"{proxy.directory}/cert.pem"
    seen = echoed(requests.get(f"{proxy.tls_url}/bigchaindb/api/v1/", verify=certificate,
                               headers={"Host": "ledger.example.com"}))
    assert seen["path"] == "/api/v1/"
    assert forwarded(seen) == {
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "ledger.example.com",
        "x-forwarded-port": str(proxy.tls_port),
        "x-forwarded-prefix": "/bigchaindb",
    }
    # Plain HTTP keeps working beside it.
    assert forwarded(echoed(requests.get(f"{proxy.url}/")))["x-forwarded-proto"] == "http"


def test_compose_proxy_spreads_requests_over_the_three_nodes(echo_servers):
    """docker/nginx.conf, with the node names replaced by three local echo servers."""
    nodes = echo_servers(3)

    def render(http_port, tls_port):
        text = COMPOSE_CONFIG.read_text(encoding="utf-8")
        text = replace_line(text, r"(\s*)listen 9984;", rf"\g<1>listen 127.0.0.1:{http_port};")
        for index, node in enumerate(nodes, start=1):
            text = replace_line(text, rf"(\s*)server bigchaindb{index}:9984;",
                                rf"\g<1>server 127.0.0.1:{port_of(node)};")
        return text

    proxy = Nginx()
    try:
        proxy.start(render)
        answers = [echoed(requests.get(f"{proxy.url}/bigchaindb/api/v1/")) for _ in range(9)]
        assert {seen["server"] for seen in answers} == {"echo1", "echo2", "echo3"}
        assert {seen["path"] for seen in answers} == {"/api/v1/"}
        assert forwarded(answers[0]) == {
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-proto": "http",
            "x-forwarded-host": "127.0.0.1",
            "x-forwarded-port": str(proxy.http_port),
            "x-forwarded-prefix": "/bigchaindb",
        }
        assert requests.post(f"{proxy.url}/", data=b"x" * (MAX_BODY + 1)).status_code == 413
    finally:
        proxy.stop()
