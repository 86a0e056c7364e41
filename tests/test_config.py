"""Configuration precedence: defaults < file < BIGCHAINDB_* environment."""

import json
import pathlib

import pytest

from bigchaindb import config
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.exceptions import ConfigurationError

OTHER = generate_key_pair().public_key


def test_defaults_without_file_or_environment(tmp_path):
    loaded = config.load(str(tmp_path / "missing"), environ={})
    assert loaded["server"]["bind"] == "localhost:9984"
    assert loaded["database"]["backend"] == "sqlite"
    assert loaded["backlog_reassign_delay"] == 120


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"server": {"bind": "0.0.0.0:1"}, "database": {"port": 1, "name": "x"},
                                "keyring": [OTHER]}))
    k1, k2 = generate_key_pair().public_key, generate_key_pair().public_key
    environ = {"BIGCHAINDB_DATABASE_PORT": "2", "BIGCHAINDB_KEYRING": f"{k1}:{k2}",
               "BIGCHAINDB_BACKLOG_REASSIGN_DELAY": "30", "BIGCHAINDB_DATABASE_BACKEND": "rethinkdb"}
    loaded = config.load(str(path), environ=environ)
    assert loaded["server"]["bind"] == "0.0.0.0:1"          # file
    assert loaded["database"]["name"] == "x"                # file
    assert loaded["database"]["port"] == 2                  # environment beats file
    assert loaded["database"]["backend"] == "rethinkdb"
    assert loaded["keyring"] == [k1, k2]
    assert loaded["backlog_reassign_delay"] == 30
    assert loaded["database"]["host"] == "localhost"        # default kept inside a merged section


def test_config_path_environment_variable(tmp_path):
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"server": {"bind": "h:5"}}))
    assert config.load(environ={"BIGCHAINDB_CONFIG_PATH": str(path)})["server"]["bind"] == "h:5"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_unreadable_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match="bad.json"):
        config.load(str(path), environ={})


def test_non_integer_environment_value_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="BIGCHAINDB_SERVER_MAX_BODY_SIZE"):
        config.load(str(tmp_path / "none"), environ={"BIGCHAINDB_SERVER_MAX_BODY_SIZE": "big"})


def test_masked_hides_the_private_key():
    shown = config.masked({"keypair": {"public": "pub", "private": "secret"}})
    assert shown["keypair"] == {"public": "pub", "private": "********"}


# -- every value checked, naming the key, the value and what is allowed ------

KEYS = generate_key_pair()
NOT_MINE = generate_key_pair()


def load_file(tmp_path, data, environ=None):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return config.load(str(path), environ=environ or {})


def refusal(tmp_path, data, environ=None):
    with pytest.raises(ConfigurationError) as raised:
        load_file(tmp_path, data, environ)
    return str(raised.value)


@pytest.mark.parametrize("data, expected", [
    ({"log": {"level": "bogus"}}, 'log.level: "bogus" (in {path}): not allowed; '
                                  "allowed: one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ({"server": {"bind": 9984}}, 'server.bind: 9984 (in {path}): not a non-empty string; allowed: "HOST:PORT"'),
    ({"server": {"bind": "localhost"}}, 'server.bind: "localhost" (in {path}): not HOST:PORT'),
    ({"server": {"bind": "localhost:99999"}}, "the port is not a number from 1 to 65535"),
    ({"server": {"bind": "::1:9984"}}, "an IPv6 host must be in brackets"),
    ({"server": {"workers": 0}}, "server.workers: 0 (in {path}): out of range; "
                                 "allowed: an integer of at least 1, or null (one per core)"),
    ({"server": {"connections": "4"}}, 'server.connections: "4" (in {path}): not an integer'),
    ({"server": {"max_body_size": True}}, "server.max_body_size: true (in {path}): not an integer"),
    ({"database": {"backend": "mongodb"}}, 'database.backend: "mongodb" (in {path}): not allowed; '
                                           "allowed: one of sqlite, rethinkdb"),
    ({"database": {"port": 0}}, "allowed: an integer from 1 to 65535"),
    ({"database": {"name": "my-ledger"}}, "allowed: letters, digits and underscores"),
    ({"database": {"connection_timeout": -1}}, "allowed: a number of seconds, 0 or more"),
    ({"backlog_reassign_delay": 0}, "backlog_reassign_delay: 0 (in {path}): out of range"),
    ({"keyring": "abc"}, 'keyring: "abc" (in {path}): not a list'),
    ({"keyring": ["3x"]}, 'item 0 ("3x"): decodes to 1 bytes, not 32'),
    ({"server": "localhost:9984"}, 'server: "localhost:9984" (in {path}): not an object; '
                                   "allowed: an object of bind, connections, cors_origins, max_body_size"),
    ({"server": {"bnd": "localhost:9984"}}, "server.bnd (in {path}): not a setting; did you mean server.bind?"),
    ({"sever": {"bind": "localhost:9984"}}, "sever (in {path}): not a setting; did you mean server?"),
    ({"backlog_reasign_delay": 60}, "did you mean backlog_reassign_delay?"),
    ({"log": {"level": "INFO", "destination": 5}}, "log.destination (in {path}): not a setting; known: log.format, log.level"),
])
def test_a_wrong_value_or_key_is_refused_naming_it(tmp_path, data, expected):
    assert expected.format(path=tmp_path / "config.json") in refusal(tmp_path, data)


@pytest.mark.parametrize("private, expected", [
    ("0OIl" + KEYS.private_key[4:], "keypair.private: (hidden) (in {path}): not base58 (it holds '0IOl')"),
    (KEYS.private_key[:-3], "keypair.private: (hidden) (in {path}): decodes to "),
    (NOT_MINE.private_key, f'keypair.public: "{KEYS.public_key}": not the public key of keypair.private'),
    (None, "keypair.private: null: keypair.public is set but keypair.private is not"),
], ids=["not base58", "too short", "not matching", "missing"])
def test_a_bad_keypair_is_refused_without_showing_the_private_key(tmp_path, private, expected):
    message = refusal(tmp_path, {"keypair": {"public": KEYS.public_key, "private": private}})
    assert expected.format(path=tmp_path / "config.json") in message
    if private:
        assert private not in message


def test_a_keyring_naming_this_node_or_a_key_twice_is_refused(tmp_path):
    mine = {"public": KEYS.public_key, "private": KEYS.private_key}
    assert "this node's own public key is in its keyring" in refusal(
        tmp_path, {"keypair": mine, "keyring": [NOT_MINE.public_key, KEYS.public_key]})
    assert f'keyring: "{NOT_MINE.public_key}": listed twice' in refusal(
        tmp_path, {"keypair": mine, "keyring": [NOT_MINE.public_key, NOT_MINE.public_key]})


def test_environment_values_are_checked_and_named_by_their_variable(tmp_path):
    assert refusal(tmp_path, {}, {"BIGCHAINDB_LOG_LEVEL": "loud"}).startswith(
        'log.level: "loud" (from BIGCHAINDB_LOG_LEVEL): not allowed')
    assert "BIGCHAINDB_SERVER_BND (in the environment): not a setting; did you mean BIGCHAINDB_SERVER_BIND?" in \
        refusal(tmp_path, {}, {"BIGCHAINDB_SERVER_BND": "localhost:1"})
    assert "item 1" in refusal(tmp_path, {}, {"BIGCHAINDB_KEYRING": f"{NOT_MINE.public_key}:nope"})
    assert "did you mean BIGCHAINDB_BACKLOG_REASSIGN_DELAY?" in refusal(
        tmp_path, {}, {"BIGCHAINDB_BACKLOG_REASIGN_DELAY": "60"})
    assert "BIGCHAINDB_DATABASE_REPLICAS (in the environment): not a setting" in refusal(
        tmp_path, {}, {"BIGCHAINDB_DATABASE_REPLICAS": "3"})


def test_other_tools_variables_sharing_the_prefix_are_left_alone(tmp_path):
    loaded = load_file(tmp_path, {}, {"BIGCHAINDB_TEST_RETHINKDB": "/opt/rethinkdb",
                                      "BIGCHAINDB_TEST_REQUIRE_RETHINKDB": "1"})
    assert loaded["server"] == config.DEFAULTS["server"]


def test_values_are_normalised(tmp_path):
    loaded = load_file(tmp_path, {"log": {"level": "debug"}, "database": {"backend": "SQLite"}},
                       {"BIGCHAINDB_SERVER_WORKERS": "null", "BIGCHAINDB_DATABASE_CONNECTION_TIMEOUT": "2.5"})
    assert loaded["log"]["level"] == "DEBUG"
    assert loaded["database"]["backend"] == "sqlite"
    assert loaded["server"]["workers"] is None
    assert loaded["database"]["connection_timeout"] == 2.5


def test_every_setting_has_a_valid_default_and_a_line_in_the_readme():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    for setting in config.SETTINGS:
        assert setting.kind.check(setting.default) == setting.default or setting.default is None, setting.key
        assert f"`{setting.key}`" in readme or f"`{setting.key.rpartition('.')[0]}.public`" in readme, setting.key
        assert setting.env in readme or setting.key.startswith("keypair."), setting.key


def test_the_public_url_comes_from_the_environment_too(tmp_path):
    url = "https://example.com:8443/bigchaindb"
    loaded = config.load(str(tmp_path / "none"), environ={"BIGCHAINDB_SERVER_PUBLIC_URL": url})
    assert loaded["server"]["public_url"] == url
    assert config.public_url_parts(url) == ("https", "example.com:8443", "/bigchaindb")
    assert config.load(str(tmp_path / "none"), environ={"BIGCHAINDB_SERVER_PUBLIC_URL": ""})["server"][
        "public_url"] is None


@pytest.mark.parametrize("url, why", [
    ("example.com", "not an http:// or https:// URL"), ("ftp://example.com", "not an http:// or https:// URL"),
    ("https://", "not an http:// or https:// URL"), ("https://user@example.com", "a user, a query or a fragment"),
    ("https://example.com:port", "not a URL"), ("https://example.com/?q=1", "a user, a query or a fragment"),
    ("https://example.com/#x", "a user, a query or a fragment"), (42, "not a string"),
])
def test_a_public_url_that_is_not_one_is_refused_saying_why(tmp_path, url, why):
    message = refusal(tmp_path, {"server": {"public_url": url}})
    assert message.startswith(f"server.public_url: {json.dumps(url)} (in ")
    assert why in message and "allowed: an http:// or https:// URL" in message


def test_cors_origins_come_from_the_file_or_the_environment_comma_separated(tmp_path):
    origins = ["https://wallet.example", "http://localhost:3000", "http://[::1]:8080"]
    assert load_file(tmp_path, {"server": {"cors_origins": origins}})["server"]["cors_origins"] == origins
    environ = {"BIGCHAINDB_SERVER_CORS_ORIGINS": "https://wallet.example, http://localhost:3000"}
    assert load_file(tmp_path, {}, environ)["server"]["cors_origins"] == origins[:2]
    assert load_file(tmp_path, {}, {"BIGCHAINDB_SERVER_CORS_ORIGINS": "*"})["server"]["cors_origins"] == "*"
    assert load_file(tmp_path, {}, {"BIGCHAINDB_SERVER_CORS_ORIGINS": ""})["server"]["cors_origins"] is None


@pytest.mark.parametrize("origins, why", [
    ("https://wallet.example", 'not "*" nor a non-empty list'), ([], 'not "*" nor a non-empty list'),
    (["https://wallet.example/app"], "item 0"), (["wallet.example"], "item 0"), (["*.example"], "item 0"),
    (["https://a.example", "https://b.example:99999999"], "item 1"), ([42], "item 0"),
])
def test_an_origin_that_is_not_one_is_refused_naming_it(tmp_path, origins, why):
    message = refusal(tmp_path, {"server": {"cors_origins": origins}})
    assert message.startswith(f"server.cors_origins: {json.dumps(origins)} (in ")
    assert why in message and 'allowed: null (no cross-origin calls), "*"' in message


def test_the_log_format_is_text_or_json(tmp_path):
    assert load_file(tmp_path, {})["log"]["format"] == "text"
    assert load_file(tmp_path, {}, {"BIGCHAINDB_LOG_FORMAT": "JSON"})["log"]["format"] == "json"
    assert "allowed: one of text, json" in refusal(tmp_path, {"log": {"format": "logfmt"}})
