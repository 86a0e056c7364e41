"""One keep-alive HTTP connection per thread, on the standard library's http.client.

http.client costs a fraction of the CPU of ``requests`` per call, and the
harness shares the machine with the server it measures, so its overhead
lowers every figure.  A connection the server closed (gunicorn's sync workers
close after every response) is reopened on the next request.
"""

import http.client
import time
import urllib.parse

clock = time.perf_counter
"""The one clock of the harness: monotonic, fine-grained, shared by every thread."""

JSON = {"Content-Type": "application/json"}
ERRORS = (OSError, http.client.HTTPException)
"""What a failed request raises: no connection, a reset, a malformed answer."""
API = "/api/v1"


class Client:
    def __init__(self, url, timeout=30):
        parts = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def request(self, method, path, body=None):
        """``(status, body bytes)``; a dropped keep-alive connection is retried once."""
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body, JSON if body is not None else {})
                response = self.connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        self.connection.close()
