"""The OpenAPI 3.1 document of the node's HTTP API, served at /api/v1/openapi.json.

How to add a route: describe it in the YAML file of this folder named after
its view module (``transactions.yaml`` for ``views/transactions.py``; a new
view module gets a new file), under ``paths:``, with every parameter, status
code, header and body schema (base.yaml says more, and holds what routes
share).  Nothing else: this module loads every ``*.yaml`` here.
tests/web/test_openapi.py fails while a Flask rule is not described, and
every response the test suite sees is checked against the document.

The files are merged into one document: their ``paths`` and each section of
their ``components``, where a name given twice is an error (so two files
cannot silently describe one thing).  The transaction schema is the node's
own (``bigchaindb.common.schema``), included rather than copied: it becomes
``#/components/schemas/Transaction`` and each of its definitions a schema of
the same name, with its ``#/definitions/`` references pointing there.
"""

import copy
import functools
from importlib import resources

import yaml

from bigchaindb.common.schema import TX_SCHEMA

BASE = "base.yaml"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OPTIONS = {"summary": "The methods this path allows.", "tags": ["info"],
           "responses": {"200": {"$ref": "#/components/responses/Options"}}}
REQUEST_ID = {"$ref": "#/components/headers/X-Request-ID"}
# What the HTTP server answers on any path to a request it cannot read (web.server)
UNREAD = {"408": {"$ref": "#/components/responses/BodyTimeout"},
          "414": {"$ref": "#/components/responses/UriTooLong"},
          "431": {"$ref": "#/components/responses/HeadersTooLarge"}}


@functools.cache
def document():
    """The document, built once per process; callers must not change it."""
    files = sorted(f for f in resources.files(__package__).iterdir() if f.name.endswith(".yaml"))
    spec = _load(next(f for f in files if f.name == BASE))
    spec.setdefault("paths", {})
    spec.setdefault("components", {})
    for file in files:
        if file.name != BASE:
            _merge(spec, _load(file), file.name)
    _merge(spec, {"components": {"schemas": transaction_schemas()}}, "bigchaindb/common/schema")
    for path_item in spec["paths"].values():
        # Flask answers OPTIONS on every path (web.app.NodeFlask)
        path_item.setdefault("options", dict(copy.deepcopy(OPTIONS), parameters=_path_parameters(spec, path_item)))
        for method in METHODS & path_item.keys():
            responses = path_item[method]["responses"]
            for status, response in UNREAD.items():
                responses.setdefault(status, dict(response))
            for response in responses.values():
                # web.access answers every request with its id
                _resolved(spec, response).setdefault("headers", {}).setdefault("X-Request-ID", REQUEST_ID)
    return spec


def _path_parameters(spec, path_item):
    """The path parameters that the operations of ``path_item`` declare, once each."""
    found = {}
    for method in METHODS & path_item.keys():
        for parameter in path_item[method].get("parameters", ()):
            described = _resolved(spec, parameter)
            if described["in"] == "path":
                found.setdefault(described["name"], parameter)
    return list(found.values())


def _resolved(spec, value):
    """``value``, or what it points at when it is a reference within the document."""
    while "$ref" in value:
        value = functools.reduce(lambda node, key: node[key], value["$ref"].removeprefix("#/").split("/"), spec)
    return value


def _load(file):
    return yaml.safe_load(file.read_text(encoding="utf-8"))


def _merge(spec, part, source):
    """Add the paths and components of ``part`` to ``spec``; a name given twice is an error."""
    unknown = set(part) - {"paths", "components"}
    if unknown:
        raise ValueError(f"{source}: only paths and components may be given, not {', '.join(sorted(unknown))}")
    sections = [(spec["paths"], part.get("paths") or {}, "paths")]
    for name, entries in (part.get("components") or {}).items():
        sections.append((spec["components"].setdefault(name, {}), entries, f"components/{name}"))
    for into, entries, where in sections:
        for key, value in entries.items():
            if key in into:
                raise ValueError(f"{source}: {where}/{key} is described twice")
            into[key] = value


def transaction_schemas():
    """The transaction schema as components: ``Transaction`` and each of its definitions."""
    schema = _pointing_to_components(TX_SCHEMA)
    definitions = schema.pop("definitions")
    schema.pop("$schema")  # the document's dialect (JSON Schema 2020-12) reads it alike
    return {"Transaction": schema, **definitions}


def _pointing_to_components(value):
    if isinstance(value, dict):
        return {key: (item.replace("#/definitions/", "#/components/schemas/", 1) if key == "$ref"
                      else _pointing_to_components(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_pointing_to_components(item) for item in value]
    return value
