"""The install is exactly what was tested: uv.lock is current with
pyproject.toml, and every place that bootstraps uv asks for the version the
lock pins (./dev for developers and CI, the Dockerfile for images)."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


def locked_uv_version():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (pin,) = pyproject["dependency-groups"]["dev"]
    return pin.removeprefix("uv==")


def test_the_lock_is_current_with_pyproject():
    if not UV.exists():
        pytest.skip(f"uv is not installed beside {sys.executable} (./dev installs it)")
    checked = subprocess.run([str(UV), "lock", "--check", "--offline"], cwd=REPO, capture_output=True, text=True)
    assert checked.returncode == 0, (
        f"uv.lock does not match pyproject.toml: run `.venv/bin/uv lock` and commit uv.lock\n{checked.stderr}")


def test_every_bootstrap_asks_for_the_locked_uv():
    wanted = locked_uv_version()
    dev = re.search(r"^uv_version=(\S+)$", (REPO / "dev").read_text(encoding="utf-8"), re.MULTILINE)
    docker = re.search(r"^ARG UV_VERSION=(\S+)$", (REPO / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    assert dev and dev.group(1) == wanted
    assert docker and docker.group(1) == wanted


def test_cryptoconditions_is_locked_with_a_current_pynacl():
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    versions = {package["name"]: package["version"] for package in lock["package"]}
    assert versions["cryptoconditions"] == "0.5.1"
    assert tuple(map(int, versions["pynacl"].split(".")[:2])) >= (1, 5)
    assert all("hash" in wheel for package in lock["package"] for wheel in package.get("wheels", []))
