"""The node's configuration: defaults < config file < BIGCHAINDB_* environment.

Read once at start-up (``load``) and passed down as a plain dict; no other
module reads the environment or the file.
"""

import copy
import json
import os

from bigchaindb.common.exceptions import ConfigurationError

CONFIG_PATH_ENV = "BIGCHAINDB_CONFIG_PATH"
DEFAULT_CONFIG_PATH = os.path.join("~", ".bigchaindb")
DEFAULT_DATA_PATH = os.path.join("~", ".bigchaindb-data", "bigchaindb.sqlite")

DEFAULTS = {
    "server": {
        # host:port gunicorn listens on
        "bind": "localhost:9984",
        # gunicorn worker processes; null means one per core
        "workers": None,
        # threads per worker process
        "threads": 4,
        # largest request body accepted, in bytes (413 above it)
        "max_body_size": 1024 * 1024,
        # how many reverse proxies in front of the node to trust for
        # X-Forwarded-For/-Proto/-Host/-Port/-Prefix; 0 trusts none
        "trusted_proxies": 0,
    },
    "database": {
        # "sqlite" (embedded, the default) or "rethinkdb"
        "backend": "sqlite",
        # sqlite: the database file
        "path": DEFAULT_DATA_PATH,
        # rethinkdb: where the cluster answers, and the database name
        "host": "localhost",
        "port": 28015,
        "name": "bigchain",
        # rethinkdb: seconds to keep retrying the first connection
        "connection_timeout": 30,
    },
    "keypair": {"public": None, "private": None},
    # public keys of the other federation nodes
    "keyring": [],
    # seconds before a backlog entry nobody picked up is reassigned
    "backlog_reassign_delay": 120,
    # the hash of every id: "sha3_256" (FIPS-202), or "keccak_256" for a
    # federation of the first 0.8.0 installs; a store keeps the one it was made with
    "hash": "sha3_256",
    "log": {"level": "INFO"},
}

# BIGCHAINDB_<SECTION>_<KEY> for every nested key, BIGCHAINDB_<KEY> for
# top-level ones; BIGCHAINDB_KEYRING is a colon-separated list of keys.
_INTEGER_KEYS = {("server", "workers"), ("server", "threads"), ("server", "max_body_size"), ("server", "trusted_proxies"),
                 ("database", "port"), ("database", "connection_timeout"), ("backlog_reassign_delay",)}


def config_path(path=None, environ=None):
    """The config file in use: -c, else $BIGCHAINDB_CONFIG_PATH, else ~/.bigchaindb."""
    environ = os.environ if environ is None else environ
    return os.path.expanduser(path or environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


def load(path=None, environ=None):
    """The merged configuration, from the file (if it exists) and the environment."""
    environ = os.environ if environ is None else environ
    config = copy.deepcopy(DEFAULTS)
    file_path = config_path(path, environ)
    if os.path.exists(file_path):
        merge(config, read_file(file_path))
    merge(config, from_environment(environ))
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
    """The settings named by BIGCHAINDB_* variables, as a nested dict."""
    found = {}
    for section, value in DEFAULTS.items():
        if isinstance(value, dict):
            for key in value:
                name = f"BIGCHAINDB_{section}_{key}".upper()
                if name in environ:
                    found.setdefault(section, {})[key] = _convert((section, key), environ[name], name)
        else:
            name = f"BIGCHAINDB_{section}".upper()
            if name in environ:
                found[section] = _convert((section,), environ[name], name)
    return found


def _convert(key, text, name):
    if key == ("keyring",):
        return [k for k in text.split(":") if k]
    if key in _INTEGER_KEYS:
        if text.strip().lower() in ("", "null", "none") and key == ("server", "workers"):
            return None
        try:
            return int(text)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer, not {text!r}") from None
    return text


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
