"""The node's configuration: defaults < config file < BIGCHAINDB_* environment.

Read once at start-up (``load``) and passed down as a plain dict; no other
module reads the environment or the file.

Every setting is one line of ``SETTINGS``: its dotted key, its default and
its kind, which checks a value (and reads it from an environment
variable's text) and says what is allowed.  ``load`` checks every value
where it comes from, refuses keys and variables that name no setting (with
the nearest one that does), then checks the settings that must agree with
each other (``CROSS_CHECKS``).  A mistake is a ``ConfigurationError``
reading ``<key>: <value> (<where>): <problem>; allowed: <what>``, so an
operator learns of it before the node starts, not from a stage that dies.
"""

import copy
import difflib
import json
import os
import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import base58

from bigchaindb.common.crypto import DEFAULT_HASH, HASHES, public_key_of
from bigchaindb.common.exceptions import ConfigurationError

CONFIG_PATH_ENV = "BIGCHAINDB_CONFIG_PATH"
ENV_PREFIX = "BIGCHAINDB_"
DEFAULT_CONFIG_PATH = os.path.join("~", ".bigchaindb")
DEFAULT_DATA_PATH = os.path.join("~", ".bigchaindb-data", "bigchaindb.sqlite")


class Invalid(ValueError):
    """A value a kind refuses; the message says why, if more than "not allowed"."""


# -- kinds of values ---------------------------------------------------------
# Each has ``allowed`` (what an operator may write), ``check(value)`` (the
# value as the node uses it, or Invalid) and ``parse(text)`` (an environment
# variable's text as a value, before ``check``).

class Text:
    def __init__(self, allowed="a non-empty string", pattern=None):
        self.allowed = allowed
        self.pattern = re.compile(pattern) if pattern else None

    def check(self, value):
        if not isinstance(value, str) or not value:
            raise Invalid("not a non-empty string")
        if self.pattern and not self.pattern.fullmatch(value):
            raise Invalid("not allowed")
        return value

    def parse(self, text):
        return text


class Integer:
    def __init__(self, minimum, maximum=None, null=None):
        self.minimum, self.maximum, self.null = minimum, maximum, null
        span = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        self.allowed = f"an integer {span}" + (f", or null ({null})" if null else "")

    def check(self, value):
        if value is None and self.null:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("not an integer")
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise Invalid("out of range")
        return value

    def parse(self, text):
        if self.null and text.strip().lower() in ("", "null", "none"):
            return None
        try:
            return int(text)
        except ValueError:
            return text  # check() says what is wrong with it


class Seconds:
    allowed = "a number of seconds, 0 or more"

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid("not a number")
        if not value >= 0:  # also refuses NaN
            raise Invalid("out of range")
        return value

    def parse(self, text):
        try:
            return float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return text


class Choice:
    """One of ``names``, spelt in any case; the value is the name as listed."""

    def __init__(self, *names):
        self.names = names
        self.allowed = "one of " + ", ".join(names)

    def check(self, value):
        for name in self.names:
            if isinstance(value, str) and value.lower() == name.lower():
                return name
        raise Invalid("not allowed")

    def parse(self, text):
        return text


class PositiveSeconds(Seconds):
    allowed = "a number of seconds, more than 0"

    def check(self, value):
        value = super().check(value)
        if value == 0:
            raise Invalid("out of range")
        return value


class HostPort(Text):
    """Where a server listens: ``HOST:PORT``, an IPv6 host in brackets."""

    def __init__(self, example, null=None):
        super().__init__(f'"HOST:PORT" text, e.g. "{example}" (an IPv6 host in brackets: "[::1]:9984")'
                         + (f", or null ({null})" if null else ""))
        self.null = null

    def parse(self, text):
        return text or None if self.null else text

    def check(self, value):
        if value is None and self.null:
            return None
        value = super().check(value)
        host, colon, port = value.rpartition(":")
        if not colon or not host:
            raise Invalid("not HOST:PORT")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise Invalid("the port is not a number from 1 to 65535")
        if ":" in host and not (host.startswith("[") and host.endswith("]")):
            raise Invalid("an IPv6 host must be in brackets")
        return value


class Key:
    """An Ed25519 key as ``bigchaindb configure`` writes it: base58 of 32 bytes."""

    def __init__(self, which, null=None):
        self.null = null
        self.allowed = f"the base58 text of a 32-byte Ed25519 {which} key" + (f", or null ({null})" if null else "")

    def check(self, value):
        if value is None and self.null:
            return None
        if not isinstance(value, str) or not value:
            raise Invalid("not a non-empty string")
        try:
            size = len(base58.b58decode(value))
        except ValueError:
            wrong = sorted({c for c in value if c not in base58.alphabet})
            raise Invalid(f"not base58 (it holds {''.join(wrong)!r})") from None
        if size != 32:
            raise Invalid(f"decodes to {size} bytes, not 32")
        return value

    def parse(self, text):
        return text or None


class KeyList:
    """A list of public keys, given in the environment separated by colons."""

    allowed = "a list of base58 Ed25519 public keys (in the environment: separated by colons)"

    def check(self, value):
        if not isinstance(value, list):
            raise Invalid("not a list")
        for index, key in enumerate(value):
            try:
                Key("public").check(key)
            except Invalid as exc:
                raise Invalid(f"item {index} ({json.dumps(key)}): {exc}") from None
        return value

    def parse(self, text):
        return [key for key in text.split(":") if key]


class PublicURL:
    """Where clients reach the API: an http(s) URL with an optional port and path prefix; or null."""

    allowed = ('an http:// or https:// URL such as "https://example.com/bigchaindb" (no user, query or '
               "fragment), or null (links follow the request's Host)")

    def check(self, value):
        if value is not None:
            public_url_parts(value)
        return value

    def parse(self, text):
        return text or None


class Origins:
    """Web origins allowed to call the API from a browser (CORS): a list, or "*" for any; or null for none."""

    allowed = ('null (no cross-origin calls), "*" (any origin), or a list of origins such as '
               '"https://wallet.example" or "http://localhost:3000" (scheme, host and port only; '
               "in the environment: separated by commas)")

    def check(self, value):
        if value is None or value == "*":
            return value
        if not isinstance(value, list) or not value:
            raise Invalid('not "*" nor a non-empty list')
        for index, origin in enumerate(value):
            if not isinstance(origin, str) or not ORIGIN.fullmatch(origin):
                raise Invalid(f"item {index} ({json.dumps(origin)}): not an origin "
                              "(scheme://host[:port], nothing after)")
        return value

    def parse(self, text):
        text = text.strip()
        if text in ("", "null", "none"):
            return None
        return "*" if text == "*" else [origin.strip() for origin in text.split(",") if origin.strip()]


# An origin as browsers send it: lower-case scheme, host (a name, an IPv4
# address or an IPv6 one in brackets) and an optional port; no path.
ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:[0-9]{1,5})?")


def public_url_parts(url):
    """``(scheme, host[:port], path prefix)`` of a ``server.public_url``, or Invalid saying why not."""
    if not isinstance(url, str):
        raise Invalid("not a string")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise Invalid("not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("not an http:// or https:// URL with a host")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise Invalid("it has a user, a query or a fragment")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


class Setting(NamedTuple):
    key: str       # dotted: "server.bind" is {"server": {"bind": ...}} in the file
    default: Any
    kind: Any
    secret: bool = False  # never shown in a message

    @property
    def env(self):
        return ENV_PREFIX + self.key.replace(".", "_").upper()


SETTINGS = (
    Setting("server.bind", "localhost:9984", HostPort("localhost:9984")),
    Setting("server.workers", None, Integer(1, null="one per core")),
    Setting("server.connections", 1000, Integer(1)),
    Setting("server.max_body_size", 1024 * 1024, Integer(1024)),
    Setting("server.trusted_proxies", 0, Integer(0)),
    Setting("server.public_url", None, PublicURL()),
    Setting("server.cors_origins", None, Origins()),
    Setting("streams.bind", None, HostPort("localhost:9985", null="the host of server.bind, on the next port")),
    Setting("streams.heartbeat", 20, PositiveSeconds()),
    Setting("streams.buffer", 1000, Integer(1)),
    Setting("streams.max_subscribers", 2000, Integer(1)),
    Setting("database.backend", "sqlite", Choice("sqlite", "rethinkdb")),
    Setting("database.path", DEFAULT_DATA_PATH, Text("the path of the store's file")),
    Setting("database.host", "localhost", Text("a host name or address")),
    Setting("database.port", 28015, Integer(1, 65535)),
    Setting("database.name", "bigchain", Text("letters, digits and underscores", r"[A-Za-z0-9_]+")),
    Setting("database.connection_timeout", 30, Seconds()),
    Setting("keypair.public", None, Key("public", null="set by bigchaindb configure")),
    Setting("keypair.private", None, Key("private", null="set by bigchaindb configure"), secret=True),
    Setting("keyring", [], KeyList()),
    Setting("backlog_reassign_delay", 120, Integer(1)),
    Setting("block.timeout", 0.2, Seconds()),
    Setting("hash", DEFAULT_HASH, Choice(*HASHES)),
    Setting("log.level", "INFO", Choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    Setting("log.format", "text", Choice("text", "json")),
)
"""Every setting: key, default, kind.  A new setting is one line here (its
environment variable follows from its key) and one in README.md's
configuration table, which says what each means."""

BY_KEY = {setting.key: setting for setting in SETTINGS}
BY_ENV = {setting.env: setting for setting in SETTINGS}


def _nested(pairs):
    """``{"a.b": v}`` pairs as ``{"a": {"b": v}}``."""
    nested = {}
    for key, value in pairs:
        *sections, name = key.split(".")
        place = nested
        for section in sections:
            place = place.setdefault(section, {})
        place[name] = value
    return nested


DEFAULTS = _nested((setting.key, setting.default) for setting in SETTINGS)
SECTIONS = {key.rpartition(".")[0] for key in BY_KEY if "." in key}


def _problem(setting, value, where, why):
    shown = "(hidden)" if setting.secret else json.dumps(value)
    return ConfigurationError(f"{setting.key}: {shown} ({where}): {why}; allowed: {setting.kind.allowed}")


def _unknown(name, known, where, siblings=None):
    """The error for ``name``, which is not a setting: the nearest of ``known``, else ``siblings``."""
    nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {nearest[0]}?" if nearest else f"known: {', '.join(sorted(siblings or known))}"
    return ConfigurationError(f"{name} ({where}): not a setting; {hint}")


def check_value(setting, value, where):
    """``value`` as the node uses it, or a ConfigurationError naming the key, the value and what is allowed."""
    try:
        return setting.kind.check(value)
    except Invalid as exc:
        raise _problem(setting, value, where, str(exc)) from None


def check_file_data(data, where, prefix=""):
    """The settings in a config file's object, checked, as a nested dict."""
    checked = {}
    for name, value in data.items():
        key = prefix + name
        if key in BY_KEY:
            checked[name] = check_value(BY_KEY[key], value, where)
        elif key in SECTIONS:
            if not isinstance(value, dict):
                members = sorted(k.rpartition(".")[2] for k in BY_KEY if k.startswith(key + "."))
                raise ConfigurationError(f"{key}: {json.dumps(value)} ({where}): not an object; "
                                         f"allowed: an object of {', '.join(members)}")
            checked[name] = check_file_data(value, where, key + ".")
        else:
            siblings = {k[len(prefix):].partition(".")[0] for k in BY_KEY if k.startswith(prefix)}
            raise _unknown(key, list(BY_KEY) + sorted(SECTIONS), where, [prefix + k for k in siblings])
    return checked


# -- settings that must agree with each other ---------------------------------

def _keypair_halves(config):
    public, private = config["keypair"]["public"], config["keypair"]["private"]
    if bool(public) != bool(private):
        given, missing = ("keypair.public", "keypair.private") if public else ("keypair.private", "keypair.public")
        raise ConfigurationError(f"{missing}: null: {given} is set but {missing} is not; allowed: both "
                                 "(run `bigchaindb configure` for a new pair) or neither")
    if public and public_key_of(private) != public:
        raise ConfigurationError(f"keypair.public: {json.dumps(public)}: not the public key of keypair.private; "
                                 "allowed: the public key of keypair.private (`bigchaindb configure` writes "
                                 "a matching pair)")


def _keyring_others(config):
    keyring, public = config["keyring"], config["keypair"]["public"]
    if public in keyring:
        raise ConfigurationError(f"keyring: {json.dumps(public)}: this node's own public key is in its keyring; "
                                 "allowed: the other nodes' public keys")
    repeated = sorted({key for key in keyring if keyring.count(key) > 1})
    if repeated:
        raise ConfigurationError(f"keyring: {json.dumps(repeated[0])}: listed twice; allowed: each key once")


CROSS_CHECKS = (_keypair_halves, _keyring_others)


# -- loading -----------------------------------------------------------------

def config_path(path=None, environ=None):
    """The config file in use: -c, else $BIGCHAINDB_CONFIG_PATH, else ~/.bigchaindb."""
    environ = os.environ if environ is None else environ
    return os.path.expanduser(path or environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


def load(path=None, environ=None):
    """The merged configuration, from the file (if it exists) and the environment, every value checked."""
    environ = os.environ if environ is None else environ
    config = copy.deepcopy(DEFAULTS)
    file_path = config_path(path, environ)
    if os.path.exists(file_path):
        merge(config, check_file_data(read_file(file_path), f"in {file_path}"))
    merge(config, from_environment(environ))
    for check in CROSS_CHECKS:
        check(config)
    config["database"]["path"] = os.path.expanduser(config["database"]["path"])
    return config


def read_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"the config file {path} must hold a JSON object")
    return data


def write_file(config, path):
    """Write ``config`` to ``path`` readable by its owner only (it holds the private key)."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=4, sort_keys=True)
        handle.write("\n")


def from_environment(environ):
    """The settings named by BIGCHAINDB_* variables, checked, as a nested dict.

    A variable that names no setting but looks meant to (it starts with a
    section's prefix, such as BIGCHAINDB_SERVER_, or is a near miss of a
    setting's name) is refused: a misspelt variable would otherwise be
    ignored without a word.  Others sharing the prefix (the test suite's
    BIGCHAINDB_TEST_*) are not the node's and are left alone.
    """
    found = []
    for name, text in environ.items():
        if name == CONFIG_PATH_ENV or not name.startswith(ENV_PREFIX):
            continue
        setting = BY_ENV.get(name)
        if setting is None:
            if _meant_as_setting(name):
                raise _unknown(name, [*BY_ENV, CONFIG_PATH_ENV], "in the environment")
            continue
        value = setting.kind.parse(text)
        found.append((setting.key, check_value(setting, value, f"from {name}")))
    return _nested(found)


def _meant_as_setting(name):
    suffix = name[len(ENV_PREFIX):]
    if any(suffix.startswith(section.replace(".", "_").upper() + "_") for section in SECTIONS):
        return True
    names = [env[len(ENV_PREFIX):] for env in BY_ENV]
    return bool(difflib.get_close_matches(suffix, names, n=1, cutoff=0.75))


def merge(base, override):
    """Merge ``override`` into ``base`` in place, section by section."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def masked(config):
    """A copy safe to print: the private key replaced by asterisks."""
    shown = copy.deepcopy(config)
    if shown.get("keypair", {}).get("private"):
        shown["keypair"]["private"] = "*" * 8
    return shown


def streams_bind(config):
    """Where the streams server listens: ``streams.bind``, else the API's host on the next port."""
    if config["streams"]["bind"]:
        return config["streams"]["bind"]
    host, _, port = config["server"]["bind"].rpartition(":")
    return f"{host}:{int(port) % 65535 + 1}"
