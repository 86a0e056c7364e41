"""The bigchaindb command line, run as a user runs it (a real process)."""

import json
import subprocess

import pytest

from tests.engines import ENGINES, fresh_store
from tests.helpers import node_environment
from tests.integration.node import BIGCHAINDB


@pytest.fixture
def environment(tmp_path):
    """What ``run`` runs the CLI with: a home of its own, the embedded store in it."""
    return node_environment(HOME=str(tmp_path), BIGCHAINDB_DATABASE_PATH=str(tmp_path / "db.sqlite"))


@pytest.fixture
def run(environment):
    def run_cli(*args, stdin=""):
        return subprocess.run([BIGCHAINDB, *args], env=environment, input=stdin, capture_output=True, text=True,
                              timeout=60)
    return run_cli


@pytest.fixture(params=ENGINES)
def where(request, tmp_path, environment):
    """Points ``run`` at a fresh store of each engine in turn; what the CLI calls that store."""
    with fresh_store(request.param, tmp_path, request) as database:
        environment.update({f"BIGCHAINDB_DATABASE_{key}".upper(): str(value) for key, value in database.items()})
        yield database.get("path") or f"database {database['name']}"


def test_configure_yes_writes_a_config_with_a_keypair(run, tmp_path):
    result = run("configure", "-y")
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / ".bigchaindb").read_text())
    assert config["keypair"]["public"] and config["keypair"]["private"]
    exported = run("export-my-pubkey")
    assert exported.stdout.strip() == config["keypair"]["public"]


def test_configure_asks_when_not_told_yes(run, tmp_path):
    answers = "\n".join(["127.0.0.1:9999", "sqlite", str(tmp_path / "x.sqlite"), "k1:k2"]) + "\n"
    result = run("-c", str(tmp_path / "asked.json"), "configure", stdin=answers)
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "asked.json").read_text())
    assert config["server"]["bind"] == "127.0.0.1:9999"
    assert config["keyring"] == ["k1", "k2"]


def test_show_config_masks_the_private_key(run, tmp_path):
    run("configure", "-y")
    private = json.loads((tmp_path / ".bigchaindb").read_text())["keypair"]["private"]
    shown = run("show-config")
    assert shown.returncode == 0
    assert private not in shown.stdout
    assert json.loads(shown.stdout)["keypair"]["private"] == "********"


def test_init_then_init_again_then_drop(run, where):
    run("configure", "-y")
    first = run("init")
    assert first.returncode == 0, first.stderr
    assert where in first.stdout
    again = run("init")
    assert again.returncode != 0
    assert "already initialised" in again.stderr
    dropped = run("drop", "-y")
    assert dropped.returncode == 0, dropped.stderr
    assert run("init").returncode == 0


def test_drop_asks_for_confirmation(run, where):
    run("configure", "-y")
    run("init")
    refused = run("drop", stdin="n\n")
    assert refused.returncode != 0
    assert run("init").returncode != 0  # still there


def test_commands_need_a_keypair(run):
    result = run("init")
    assert result.returncode != 0
    assert "bigchaindb configure" in result.stderr


def test_set_shards_refuses_the_embedded_engine(run):
    run("configure", "-y")
    result = run("set-shards", "2")
    assert result.returncode != 0
    assert "RethinkDB" in result.stderr
