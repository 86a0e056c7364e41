"""The transaction's JSON schema, compiled once, with errors a client can read.

fastjsonschema compiles the schema to plain Python, which checks a
transaction in microseconds (jsonschema takes hundreds); its exceptions say
where and which rule failed, and ``_describe`` turns that into a sentence.
"""

import json
from importlib import resources

import fastjsonschema

from bigchaindb.common.exceptions import SchemaValidationError

TX_SCHEMA = json.loads(resources.files(__package__).joinpath("transaction.json").read_text())
_validate_tx = fastjsonschema.compile(TX_SCHEMA)


def validate_transaction_schema(tx):
    """Raise SchemaValidationError naming the first thing in ``tx`` off the schema."""
    try:
        _validate_tx(tx)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise SchemaValidationError(_describe(exc)) from None


def _where(path):
    """'transaction.fulfillments[0]' for the path ['data', 'transaction', 'fulfillments', '0']."""
    if len(path) <= 1:
        return "the top level"
    text = ""
    for part in path[1:]:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text.lstrip(".")


def _describe(exc):
    where = _where(exc.path)
    definition = exc.definition or {}
    rule = exc.rule
    value = exc.value
    if rule == "additionalProperties":
        allowed = set(definition.get("properties", ()))
        unknown = sorted(k for k in value if k not in allowed)
        return f"unknown key {unknown[0]!r} in {where}"
    if rule == "required":
        missing = [k for k in definition["required"] if k not in value]
        return f"missing key {missing[0]!r} in {where}"
    if rule == "type":
        wanted = definition["type"]
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"{where} must be of type {wanted}, not {_json_type(value)}"
    if rule in ("pattern", "anyOf"):
        return f"{where} is not a valid {definition.get('title', 'value')}: {value!r}"
    if rule in ("enum", "const"):
        allowed = definition.get("enum", [definition.get("const")])
        return f"{where} must be one of {', '.join(map(json.dumps, allowed))}, not {json.dumps(value)}"
    if rule == "minimum":
        return f"{where} must be at least {definition['minimum']}, not {value}"
    if rule == "maximum":
        return f"{where} must be at most {definition['maximum']}, not {value}"
    if rule == "minItems":
        return f"{where} must have at least {definition['minItems']} item(s)"
    return exc.message.replace("data.", "", 1).replace("data ", "the top level ", 1)


def _json_type(value):
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            list: "array", dict: "object"}.get(type(value), type(value).__name__)
