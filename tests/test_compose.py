"""The container files: docker-compose.yml, docker/make-federation.py and the Dockerfile.

No Docker engine is needed (nor assumed): the compose file is checked for
every piece of the test federation and the order they start in, the
configurator is run into a temporary directory, the init one-shot's shell
script is run against stand-in `bigchaindb` commands, and the Dockerfile is
read instruction by instruction.
"""

import importlib.util
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
NODES = ("bigchaindb1", "bigchaindb2", "bigchaindb3")
CONFIG_DIR = "/var/lib/bigchaindb"


@pytest.fixture(scope="module")
def services():
    with open(REPO / "docker-compose.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["services"]


def load_make_federation():
    spec = importlib.util.spec_from_file_location("make_federation", REPO / "docker" / "make-federation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def volume_targets(service):
    """{container path: (source, read_only)} of a service's short-syntax volumes."""
    targets = {}
    for volume in service.get("volumes", []):
        source, target, *mode = volume.split(":")
        targets[target] = (source, mode == ["ro"])
    return targets


def condition(service, dependency):
    return service["depends_on"][dependency]["condition"]


@pytest.mark.parametrize("number", [1, 2, 3])
def test_rethinkdb_servers_form_one_cluster(services, number):
    server = services[f"rethinkdb{number}"]
    assert server["image"].startswith("rethinkdb:2.4")
    assert volume_targets(server)["/data"] == (f"rethinkdb{number}-data", False)
    assert server["healthcheck"]["test"][0] == "CMD"
    assert "28015" in " ".join(server["healthcheck"]["test"])
    command = server["command"]
    assert command[:3] == ["rethinkdb", "--bind", "all"]
    assert command[command.index("--server-name") + 1] == f"rethinkdb{number}"
    assert "ports" not in server, "the servers are reached over the compose network only"
    if number == 1:
        assert "--join" not in command
    else:
        assert command[command.index("--join") + 1] == "rethinkdb1:29015"
        assert condition(server, "rethinkdb1") == "service_healthy"


def test_every_node_image_service_builds_the_same_image(services):
    for name in ("federation", "init") + NODES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["federation"]["image"]


def test_federation_one_shot_writes_the_configs(services):
    federation = services["federation"]
    volumes = volume_targets(federation)
    assert volumes[CONFIG_DIR] == ("federation-config", False)
    script = federation["entrypoint"][-1]
    assert volumes[script] == ("./docker/make-federation.py", True)
    assert federation["command"] == [CONFIG_DIR, "--nodes", "3"]
    assert federation["restart"] == "no"


def test_init_one_shot_runs_once_with_node1s_keys(services):
    init = services["init"]
    assert init["entrypoint"] == ["sh", "-c"]
    assert f"bigchaindb -c {CONFIG_DIR}/node1.json init" in init["command"][0]
    assert init["environment"]["BIGCHAINDB_DATABASE_BACKEND"] == "rethinkdb"
    assert volume_targets(init)[CONFIG_DIR] == ("federation-config", True)
    assert all(condition(init, f"rethinkdb{n}") == "service_healthy" for n in (1, 2, 3))
    assert condition(init, "federation") == "service_completed_successfully"
    assert init["restart"] == "no"


@pytest.mark.parametrize("number", [1, 2, 3])
def test_node_service(services, number):
    node = services[f"bigchaindb{number}"]
    assert node["command"] == ["-c", f"{CONFIG_DIR}/node{number}.json", "start"]
    environment = node["environment"]
    assert environment["BIGCHAINDB_DATABASE_BACKEND"] == "rethinkdb"
    assert environment["BIGCHAINDB_DATABASE_HOST"] == f"rethinkdb{number}"  # each node on its own server
    assert environment["BIGCHAINDB_SERVER_TRUSTED_PROXIES"] == "1"
    assert volume_targets(node)[CONFIG_DIR] == ("federation-config", True)
    assert condition(node, "init") == "service_completed_successfully"
    assert "ports" not in node, "nodes are reached through nginx only"
    assert "healthcheck" not in node, "the image's HEALTHCHECK (GET /health) applies"


def test_nginx_service(services):
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:")
    assert volume_targets(nginx)["/etc/nginx/conf.d/default.conf"] == ("./docker/nginx.conf", True)
    assert all(condition(nginx, node) == "service_healthy" for node in NODES)
    assert nginx["ports"] == ["127.0.0.1:9984:9984"]
    assert "http://127.0.0.1:9984/" in nginx["healthcheck"]["test"]
    upstreams = re.findall(r"^\s*server (\S+);$", (REPO / "docker" / "nginx.conf").read_text(), re.MULTILINE)
    assert upstreams == [f"{node}:9984" for node in NODES]


def test_every_volume_is_declared(services):
    with open(REPO / "docker-compose.yml", encoding="utf-8") as handle:
        declared = set(yaml.safe_load(handle)["volumes"])
    named = {source for service in services.values()
             for source, _ in volume_targets(service).values() if not source.startswith(".")}
    assert named == declared


def _run_init_script(services, tmp_path, output, status):
    """Run the init one-shot's script with a `bigchaindb` whose `init` prints
    ``output`` and exits ``status`` (every other command succeeds); also the
    commands it was given."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bigchaindb"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n'
                    f'if [ "$3" = init ]; then echo \'{output}\'; exit {status}; fi\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    script = services["init"]["command"][0].replace("$$", "$")  # compose's escape for a literal $
    environ = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["sh", "-c", script], env=environ, capture_output=True, text=True)
    return result, calls.read_text().splitlines()


SET_REPLICAS = f"-c {CONFIG_DIR}/node1.json set-replicas 3"


def test_init_script_succeeds_on_a_fresh_database_and_sets_three_replicas(services, tmp_path):
    result, calls = _run_init_script(services, tmp_path, "Created the database", 0)
    assert result.returncode == 0
    assert "Created the database" in result.stdout
    assert calls == [f"-c {CONFIG_DIR}/node1.json init", SET_REPLICAS]


def test_init_script_tolerates_an_initialised_database(services, tmp_path):
    result, calls = _run_init_script(services, tmp_path, "The database bigchain already exists", 1)
    assert result.returncode == 0
    assert "nothing to do" in result.stdout
    assert calls[-1] == SET_REPLICAS


def test_init_script_fails_on_other_errors(services, tmp_path):
    result, calls = _run_init_script(services, tmp_path, "Cannot connect to rethinkdb1:28015", 1)
    assert result.returncode == 1
    assert "Cannot connect" in result.stderr
    assert SET_REPLICAS not in calls


def test_make_federation_keyrings_name_exactly_the_other_nodes(tmp_path):
    paths, written = load_make_federation().make_federation(str(tmp_path))
    assert written
    assert paths == [str(tmp_path / f"node{n}.json") for n in (1, 2, 3)]
    configs = [json.loads(Path(path).read_text()) for path in paths]
    public_keys = [config["keypair"]["public"] for config in configs]
    assert len(set(public_keys)) == 3
    for config, own in zip(configs, public_keys):
        assert sorted(config["keyring"]) == sorted(set(public_keys) - {own})
        assert config["keypair"]["private"]
    for path in paths:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the file holds a private key"


def test_make_federation_keeps_an_existing_federation(tmp_path):
    module = load_make_federation()
    paths, _ = module.make_federation(str(tmp_path))
    before = [Path(path).read_text() for path in paths]
    _, written = module.make_federation(str(tmp_path))
    assert not written
    assert [Path(path).read_text() for path in paths] == before


def test_make_federation_configs_load_as_node_configs(tmp_path):
    """What a node started with -c and the compose environment ends up with."""
    from bigchaindb import config
    from bigchaindb.common.crypto import public_key_of

    paths, _ = load_make_federation().make_federation(str(tmp_path), nodes=2)
    environ = {"BIGCHAINDB_DATABASE_BACKEND": "rethinkdb", "BIGCHAINDB_DATABASE_HOST": "rethinkdb"}
    first, second = (config.load(path, environ) for path in paths)
    assert first["database"]["backend"] == "rethinkdb"
    assert first["keyring"] == [second["keypair"]["public"]]
    assert public_key_of(first["keypair"]["private"]) == first["keypair"]["public"]


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def test_dockerfile_runs_the_node_unprivileged_and_checks_its_health():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert ("EXPOSE", "9984") in instructions
    healthcheck = dict(instructions)["HEALTHCHECK"]
    assert "urllib.request.urlopen" in healthcheck and "http://127.0.0.1:{port}/health'" in healthcheck
    assert ("ENTRYPOINT", '["bigchaindb"]') in instructions
    assert ("CMD", '["start"]') in instructions
    assert ("ENV", "BIGCHAINDB_SERVER_BIND=0.0.0.0:9984") in instructions
    last_run = max(index for index, keyword in enumerate(keywords) if keyword == "RUN")
    assert last_run < keywords.index("USER"), "installs run as root, the node does not"


def test_dockerfile_installs_the_locked_versions_dependencies_before_the_source():
    instructions = dockerfile_instructions()
    copies = [arguments for keyword, arguments in instructions if keyword == "COPY"]
    assert copies == ["pyproject.toml uv.lock ./", ". ."]
    runs = " ".join(arguments for keyword, arguments in instructions if keyword in ("COPY", "RUN"))
    order = [runs.index(step) for step in ("pyproject.toml uv.lock ./", "--no-install-project", ". .",
                                           "--no-editable")]
    assert order == sorted(order)
    syncs = [arguments for keyword, arguments in instructions if keyword == "RUN" and "uv sync" in arguments]
    assert len(syncs) == 2 and all("--locked" in sync for sync in syncs)


def test_dockerignore_keeps_the_context_to_the_package():
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!uv.lock", "!README.md", "!bigchaindb/"} <= set(lines)
