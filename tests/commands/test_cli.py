"""The bigchaindb command line, run as a user runs it (a real process)."""

import json
import subprocess

import pytest

from bigchaindb.common.crypto import generate_key_pair
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
    k1, k2 = generate_key_pair().public_key, generate_key_pair().public_key
    answers = "\n".join(["127.0.0.1:9999", "sqlite", str(tmp_path / "x.sqlite"), f"{k1}:{k2}"]) + "\n"
    result = run("-c", str(tmp_path / "asked.json"), "configure", stdin=answers)
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "asked.json").read_text())
    assert config["server"]["bind"] == "127.0.0.1:9999"
    assert config["keyring"] == [k1, k2]


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


def test_configure_refuses_to_replace_a_keypair_unless_forced(run, tmp_path):
    run("configure", "-y")
    path = tmp_path / ".bigchaindb"
    first = json.loads(path.read_text())
    for args in (("configure", "-y"), ("configure",)):
        refused = run(*args, stdin="\n" * 10)
        assert refused.returncode == 1
        assert refused.stderr.startswith(f"Error: {path} exists and holds this node's keypair "
                                         f"(public key {first['keypair']['public']})")
        assert "vote INVALID, for good, on every block already in the ledger" in refused.stderr
        assert "`bigchaindb configure --force`" in refused.stderr
        assert json.loads(path.read_text()) == first
    forced = run("configure", "-y", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(path.read_text())["keypair"]["public"] != first["keypair"]["public"]


def test_configure_checks_the_answers(run, tmp_path):
    answers = "\n".join(["9984", "sqlite", str(tmp_path / "x.sqlite"), ""]) + "\n"
    result = run("-c", str(tmp_path / "asked.json"), "configure", stdin=answers)
    assert result.returncode == 1
    assert 'Error: server.bind: "9984" (as answered): not HOST:PORT; allowed: "HOST:PORT"' in result.stderr
    assert not (tmp_path / "asked.json").exists()


def test_c_comes_before_or_after_the_subcommand(run, tmp_path):
    path = tmp_path / "node.json"
    assert run("configure", "-y", "-c", str(path)).returncode == 0
    public = json.loads(path.read_text())["keypair"]["public"]
    assert run("-c", str(path), "export-my-pubkey").stdout.strip() == public
    assert run("export-my-pubkey", "-c", str(path)).stdout.strip() == public
    assert run("export-my-pubkey", "--config", str(path)).stdout.strip() == public


def test_a_named_config_file_that_does_not_exist_is_an_error_naming_it(run, tmp_path, environment):
    missing = tmp_path / "typo.json"
    for args in (("-c", str(missing), "start"), ("show-config", "-c", str(missing))):
        result = run(*args)
        assert result.returncode == 1
        assert f"Error: the config file {missing} does not exist" in result.stderr
        assert "Traceback" not in result.stderr
    environment["BIGCHAINDB_CONFIG_PATH"] = str(missing)
    assert f"the config file {missing} does not exist" in run("start").stderr
    assert not missing.exists()


def test_show_config_shows_the_worker_count_in_force(run):
    assert run("configure", "-y").returncode == 0
    workers = json.loads(run("show-config").stdout)["server"]["workers"]
    assert isinstance(workers, int) and workers >= 1
