"""Talking to one or several nodes: keep-alive sessions, round robin, retries.

Requests go to the nodes in turn (round robin), each over its own
``requests.Session`` so connections are reused.  A request that cannot
connect, times out, or gets a 5xx is tried again on the next node, up to
``retries`` more times, after a short back-off; a 4xx is the node's answer
about the request itself and is raised at once, never retried.

Retrying a POST is safe here: a node answers 202 again to the very
transaction it already holds, so a client that lost the first answer
learns the outcome without a second copy being made.
"""

import itertools
import time

import requests

from bigchaindb.client.exceptions import ConnectionError, error_for

DEFAULT_TIMEOUT = 20
"""Seconds to wait for one node's answer."""

BACKOFF = 0.2
"""Seconds before the first retry; doubled for each further one."""


class Transport:
    """Sends requests to ``nodes`` (base URLs such as ``http://localhost:9984``)."""

    def __init__(self, nodes, timeout=DEFAULT_TIMEOUT, headers=None, retries=None):
        if not nodes:
            raise ValueError("give at least one node URL")
        self.nodes = [Node(url, headers) for url in nodes]
        self.timeout = timeout
        self.retries = len(self.nodes) + 1 if retries is None else retries
        self._turns = itertools.cycle(range(len(self.nodes)))

    def request(self, method, path, params=None, json=None):
        """The decoded JSON answer of the first node that answers without a 5xx.

        ``path`` is below the node's URL (``/api/v1/transactions``).  Redirects are
        not followed: the caller reads a 303's body, as the statuses route
        intends.  Raises a TransportError subclass for a 4xx, and
        ConnectionError when every attempt failed.
        """
        return _json(self._response(method, path, params, json))

    def request_all(self, path, params=None):
        """Every item of a list route (``GET``), page after page: each page's
        ``Link: <url>; rel="next"`` header is followed until a page has none.
        A next page is asked for at its absolute URL, whichever node is tried."""
        response = self._response("GET", path, params)
        items = list(_json(response))
        while "next" in response.links:
            response = self._response("GET", response.links["next"]["url"])
            items += _json(response)
        return items

    def _response(self, method, path, params=None, json=None):
        """The response of the first node that answers without a 5xx (see ``request``);
        ``path`` may be an absolute URL."""
        errors = []
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(BACKOFF * 2 ** (attempt - 1))
            node = self.nodes[next(self._turns)]
            try:
                url = path if path.startswith(("http://", "https://")) else node.url + path
                response = node.session.request(method, url, params=params, json=json,
                                                timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                errors.append(f"{node.url}: {exc}")
                continue
            if response.status_code >= 500:
                errors.append(f"{node.url}: {response.status_code} {_message(response)}")
                continue
            if response.status_code >= 400:
                raise error_for(response.status_code, _message(response), response.url, _json(response))
            return response
        raise ConnectionError(f"no node answered {method} {path} after {len(errors)} attempts: "
                              + "; ".join(errors[-3:]), errors)

    def close(self):
        for node in self.nodes:
            node.session.close()


class Node:
    """One node: its URL and its keep-alive session."""

    def __init__(self, url, headers=None):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json"})
        if headers:
            self.session.headers.update(headers)


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None


def _message(response):
    body = _json(response)
    if isinstance(body, dict) and "message" in body:
        return body["message"]
    return response.text[:200] or response.reason
