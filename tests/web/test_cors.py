"""CORS (``server.cors_origins``): pages of other origins calling a node, from a real browser and over HTTP.

Three nodes: one allowing a list of origins (the page server ``allowed``,
and an IPv6 origin whose brackets must not be read as a pattern), one
allowing any origin, and one with the default (no CORS).  Headless
Chromium opens a page of each of two origins, and the page ``fetch``es
from the nodes: a GET with a header of its own and a JSON POST, both of
which make the browser ask a preflight first.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.browser import PageServer, run_page
from tests.helpers import WebNode

IPV6_ORIGIN = "http://[::1]:8080"

PAGE = """<!doctype html>
<html><body><pre id="result"></pre><script>
const NODES = %s;
async function attempt(url, options) {
  try {
    const response = await fetch(url, options);
    return {status: response.status, requestId: response.headers.get("X-Request-ID"),
            body: await response.json()};
  } catch (error) {
    return {error: error.name};  // the browser kept the answer from the page
  }
}
(async () => {
  const results = {};
  for (const [name, base] of Object.entries(NODES)) {
    results[name] = {
      get: await attempt(base + "/api/v1/", {headers: {"X-Request-ID": "browser-" + name}}),
      post: await attempt(base + "/api/v1/transactions",
                          {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}),
    };
  }
  document.getElementById("result").textContent = JSON.stringify(results);
})();
</script></body></html>
"""


@pytest.fixture(scope="module")
def pages():
    allowed, other = PageServer(), PageServer()
    yield allowed, other
    allowed.close()
    other.close()


@pytest.fixture(scope="module")
def nodes(pages, tmp_path_factory):
    allowed, _ = pages
    settings = {"listed": [allowed.origin, IPV6_ORIGIN], "any": "*", "none": None}
    nodes = {name: WebNode(str(tmp_path_factory.mktemp(f"cors_{name}")), server={"cors_origins": origins})
             for name, origins in settings.items()}
    with ThreadPoolExecutor(len(nodes)) as pool:  # they boot side by side
        started = list(pool.map(lambda node: node.start(), nodes.values()))
        yield nodes
        for node in started:
            node.process.terminate()  # all at once: each waits out the browser's idle connections
        list(pool.map(lambda node: node.stop(), started))


def browse(page_server, nodes, names, tmp_path):
    page = PAGE % json.dumps({name: nodes[name].url for name in names})
    return json.loads(run_page(page_server, page, tmp_path / "profile"))


def assert_read(result, name):
    assert result["get"]["status"] == 200 and result["get"]["requestId"] == f"browser-{name}", result
    assert "_links" in result["get"]["body"]
    assert result["post"]["status"] == 400 and result["post"]["body"]["status"] == 400, result


def assert_blocked(result):
    assert result == {"get": {"error": "TypeError"}, "post": {"error": "TypeError"}}


def test_a_browser_page_of_a_listed_origin_reads_the_answers_others_are_kept_from_them(pages, nodes, tmp_path):
    allowed, _ = pages
    results = browse(allowed, nodes, ["listed", "none"], tmp_path)
    assert_read(results["listed"], "listed")
    assert_blocked(results["none"])


def test_a_browser_page_of_another_origin_is_blocked_unless_any_origin_is_allowed(pages, nodes, tmp_path):
    _, other = pages
    results = browse(other, nodes, ["listed", "any"], tmp_path)
    assert_blocked(results["listed"])
    assert_read(results["any"], "any")


def preflight(node, origin, method="POST", headers="content-type"):
    return requests.options(f"{node.api}/transactions", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})


def test_a_preflight_from_a_listed_origin_names_methods_headers_and_how_long_to_keep_it(pages, nodes):
    allowed, _ = pages
    for origin in (allowed.origin, IPV6_ORIGIN):
        response = preflight(nodes["listed"], origin, headers="content-type, x-request-id")
        assert response.status_code == 200
        headers = response.headers
        assert headers["Access-Control-Allow-Origin"] == origin
        assert {"GET", "POST"} <= set(headers["Access-Control-Allow-Methods"].split(", "))
        assert headers["Access-Control-Allow-Headers"] == "content-type, x-request-id"
        assert int(headers["Access-Control-Max-Age"]) > 0
        assert "Origin" in headers["Vary"]
        exposed = set(headers["Access-Control-Expose-Headers"].split(", "))
        assert {"Link", "Location", "X-Request-ID"} <= exposed


def test_an_origin_not_listed_gets_no_cors_headers_but_the_answer_still_varies_by_origin(pages, nodes):
    _, other = pages
    lookalike = "http://[::1]:80800"  # matched as a pattern, the listed IPv6 origin would allow it
    for origin in (other.origin, lookalike, "null"):
        response = preflight(nodes["listed"], origin)
        assert response.status_code == 200
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]
        assert "Origin" in response.headers["Vary"]


def test_any_origin_is_answered_with_a_wildcard_not_an_echo(nodes):
    response = requests.get(f"{nodes['any'].api}/", headers={"Origin": "https://anyone.example"}, timeout=10)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_without_the_setting_there_is_no_cors_header(nodes):
    response = preflight(nodes["none"], "https://anyone.example")
    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("origin", ["https://" + "a" * 7000 + ".example", "http://a b", "\u00e9t\u00e9://x",
                                    "*", "http://127.0.0.1:1/.*"])
def test_a_huge_or_malformed_origin_is_just_not_allowed(nodes, origin):
    for name in ("listed", "none"):
        response = requests.get(f"{nodes[name].api}/", headers={"Origin": origin.encode("utf-8")}, timeout=10)
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
    response = requests.get(f"{nodes['any'].api}/", headers={"Origin": origin.encode("utf-8")}, timeout=10)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
