"""Every response the test suite sees from a node, checked against the OpenAPI document.

tests/conftest.py installs ``check_requests_response`` as a response hook of
every ``requests`` session and wraps Flask's test client with
``check_test_client_response``; each mismatch is recorded, and the test that
saw it fails (also when a background thread made the request).  Only
responses from nodes are checked: those of the test client, and those from
the base URLs given to ``register_node`` (``tests.helpers.ServedProcess``
registers every node process it starts).

A response is checked for: a path and method the document describes (any
other path must be a 404, any other method a 405, as JSON errors), a status
code listed for the operation, the headers it says are required (and their
values' schemas), the media type, and the body against the schema.  HEAD is
checked as GET without a body.

jsonschema (with ``referencing``, its resolver) validates the bodies: the
reference implementation of JSON Schema 2020-12, OpenAPI 3.1's dialect,
resolving the document's ``#/components/...`` references in place; it is
already installed for schemathesis.  A validator is compiled once per
operation and status.
"""

import functools
import re
import threading
from urllib.parse import urlsplit

import jsonschema
import orjson
import referencing
import referencing.jsonschema

from bigchaindb.web.openapi import document

DOCUMENT_URI = "urn:bigchaindb:openapi"

_nodes = set()
_mismatches = []
_lock = threading.Lock()


def register_node(base_url):
    """Check the responses of requests to ``base_url`` (``http://host:port``) from now on."""
    _nodes.add(base_url.rstrip("/"))


def take_mismatches():
    """The mismatches recorded since the last call, emptying the record."""
    with _lock:
        taken = list(_mismatches)
        _mismatches.clear()
    return taken


def check_requests_response(response, *args, stream=False, **kwargs):
    """A ``requests`` response hook; the body of a streamed response is not read."""
    url = urlsplit(response.url)
    base = f"{url.scheme}://{url.netloc}"
    if base in _nodes:
        body = None if stream else response.content
        _record(mismatch(response.request.method, url.path, response.status_code, response.headers, body))
    return response


def check_test_client_response(response):
    """For Flask's test client, which calls the app without the server's WSGI layers
    around it: ``web.access``, which adds X-Request-ID, is one."""
    request = response.request
    headers = {"X-Request-ID": "test-client", **response.headers}
    _record(mismatch(request.method, request.path, response.status_code, headers, response.get_data()))
    return response


def _record(problem):
    if problem:
        with _lock:
            _mismatches.append(problem)


def mismatch(method, path, status, headers, body):
    """What in a response is off the document, or None when it matches.

    ``body`` is the raw body, or None when it was not read (a stream).
    """
    where = f"{method} {path} -> {status}"
    headers = {name.lower(): value for name, value in headers.items()}
    found = find_path(path)
    if found is None:
        if status == 404:
            return _error_mismatch(where, 404, headers, body)
        return f"{where}: the document describes no path {path}"
    template, path_item = found
    verb = "get" if method == "HEAD" else method.lower()  # the operation that describes the response
    operation = path_item.get(verb)
    if operation is None:
        if status == 405:
            if "allow" not in headers:
                return f"{where}: a 405 without an Allow header"
            return _error_mismatch(where, 405, headers, body)
        return f"{where}: the document describes no {method} on {template}"
    key = next((key for key in (str(status), f"{status // 100}XX", "default") if key in operation["responses"]),
               None)
    if key is None:
        return f"{where}: status {status} is not described for {method} {template}"
    response_pointer, described = _resolve(_pointer("paths", template, verb, "responses", key))
    for name in described.get("headers", {}):
        header_pointer, header = _resolve(response_pointer + _pointer("headers", name))
        value = headers.get(name.lower())
        if value is None:
            if header.get("required"):
                return f"{where}: no {name} header"
            continue
        problem = _schema_mismatch(_validator(header_pointer + _pointer("schema")), value)
        if problem:
            return f"{where}: header {name}: {problem}"
    content = described.get("content")
    media_type = headers.get("content-type", "").split(";")[0].strip()
    if not content:
        if body:
            return f"{where}: a body, where the document describes none"
        return None
    if media_type not in content:
        return f"{where}: Content-Type {media_type!r}, where the document describes {', '.join(content)}"
    if method == "HEAD" or body is None or media_type != "application/json":
        return None
    return _body_mismatch(where, _validator(response_pointer + _pointer("content", media_type, "schema")), body)


def _error_mismatch(where, status, headers, body):
    """A route error (an undescribed path or method) must still be a JSON error."""
    if headers.get("content-type", "").split(";")[0] != "application/json":
        return f"{where}: a {status} that is not JSON"
    if body is None:
        return None
    return _body_mismatch(where, _validator(_pointer("components", "schemas", "Error")), body)


def _body_mismatch(where, validator, body):
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return f"{where}: the body is not JSON ({exc})"
    problem = _schema_mismatch(validator, value)
    return f"{where}: body: {problem}" if problem else None


def _schema_mismatch(validator, value):
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    at = "/".join(map(str, error.absolute_path)) or "the top level"
    return f"{error.message[:300]} (at {at}; schema {'/'.join(map(str, error.absolute_schema_path))})"


@functools.cache
def _paths():
    """(regex, template, path item) for each path; a trailing slash is optional, as on the node."""
    found = []
    for template, path_item in document()["paths"].items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template.rstrip("/")))
        found.append((re.compile(pattern + "/?"), template, path_item))
    # as Werkzeug routes: a path without parameters first (/x/new before /x/{id})
    return sorted(found, key=lambda entry: entry[1].count("{"))


def find_path(path):
    """(template, path item) of the path that ``path`` is, or None."""
    for pattern, template, path_item in _paths():
        if pattern.fullmatch(path):
            return template, path_item
    return None


def _pointer(*keys):
    return "/" + "/".join(str(key).replace("~", "~0").replace("/", "~1") for key in keys)


def _resolve(pointer):
    """(pointer, value) at ``pointer`` in the document, following references."""
    spec = document()
    while True:
        value = spec
        for key in pointer.lstrip("/").split("/"):
            value = value[key.replace("~1", "/").replace("~0", "~")]
        if not (isinstance(value, dict) and "$ref" in value):
            return pointer, value
        pointer = value["$ref"].removeprefix("#")


@functools.cache
def _registry():
    resource = referencing.Resource.from_contents(document(), default_specification=referencing.jsonschema.DRAFT202012)
    return referencing.Registry().with_resource(DOCUMENT_URI, resource)


@functools.cache
def _validator(pointer):
    """A validator of the schema at ``pointer``, compiled once."""
    return jsonschema.Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=_registry())
