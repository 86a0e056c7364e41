"""Configuration precedence: defaults < file < BIGCHAINDB_* environment."""

import json

import pytest

from bigchaindb import config
from bigchaindb.common.exceptions import ConfigurationError


def test_defaults_without_file_or_environment(tmp_path):
    loaded = config.load(str(tmp_path / "missing"), environ={})
    assert loaded["server"]["bind"] == "localhost:9984"
    assert loaded["database"]["backend"] == "sqlite"
    assert loaded["backlog_reassign_delay"] == 120


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"server": {"bind": "0.0.0.0:1"}, "database": {"port": 1, "name": "x"},
                                "keyring": ["a"]}))
    environ = {"BIGCHAINDB_DATABASE_PORT": "2", "BIGCHAINDB_KEYRING": "k1:k2",
               "BIGCHAINDB_BACKLOG_REASSIGN_DELAY": "30", "BIGCHAINDB_DATABASE_BACKEND": "rethinkdb"}
    loaded = config.load(str(path), environ=environ)
    assert loaded["server"]["bind"] == "0.0.0.0:1"          # file
    assert loaded["database"]["name"] == "x"                # file
    assert loaded["database"]["port"] == 2                  # environment beats file
    assert loaded["database"]["backend"] == "rethinkdb"
    assert loaded["keyring"] == ["k1", "k2"]
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


def test_the_public_url_comes_from_the_environment_too(tmp_path):
    url = "https://example.com:8443/bigchaindb"
    loaded = config.load(str(tmp_path / "none"), environ={"BIGCHAINDB_SERVER_PUBLIC_URL": url})
    assert loaded["server"]["public_url"] == url
    assert config.public_url_parts(url) == ("https", "example.com:8443", "/bigchaindb")
    assert config.load(str(tmp_path / "none"), environ={"BIGCHAINDB_SERVER_PUBLIC_URL": ""})["server"][
        "public_url"] is None


@pytest.mark.parametrize("url", ["example.com", "ftp://example.com", "https://", "https://user@example.com",
                                 "https://example.com:port", "https://example.com/?q=1", "https://example.com/#x", 42])
def test_a_public_url_that_is_not_one_is_a_clear_error(tmp_path, url):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"server": {"public_url": url}}))
    with pytest.raises(ConfigurationError, match="server.public_url must be an http:// or https:// URL"):
        config.load(str(path), environ={})
