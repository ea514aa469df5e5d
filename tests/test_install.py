"""Installed from a wheel (not ``-e``), the package works outside the source tree with its bundled data.

The wheel is built from a copy of the source (``pip wheel --no-deps --no-build-isolation``: offline,
with the setuptools of this environment) and installed with ``--no-deps --target`` into a folder
that goes first on ``PYTHONPATH``; the dependencies come from this environment. Everything then
runs in ``tmp_path``: the console script ``yizhan nearest``, and ``create_app()``'s test client.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "instance",
                                 "__pycache__", ".pytest_cache", "test-artifacts", "tests", ".stamp-*")

PROBE = """
import json, sys
import geodata, stations, web, yizhan
from web import create_app
app = create_app({"TESTING": True})
client = app.test_client()
stations_answer = client.get("/api/stations").get_json()
print(json.dumps({
    "modules": [m.__file__ for m in (geodata, stations, web, yizhan)],
    "config": {k: app.config[k] for k in ("INSTANCE_PATH", "STATIONS_PATH", "COUNTIES_PATH")},
    "health": client.get("/api/health").status_code,
    "page": client.get("/").status_code,
    "stations": len(stations_answer["features"]),
    "counties": len(client.get("/api/counties").get_json()["features"]),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A folder holding the installed wheel (packages and ``bin/yizhan``)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source, dist, target = tmp / "source", tmp / "dist", tmp / "installed"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)],
                   check=True, cwd=tmp, capture_output=True, timeout=300)
    wheels = list(dist.glob("yizhan-*.whl"))
    assert len(wheels) == 1, wheels
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheels[0])],
                   check=True, cwd=tmp, capture_output=True, timeout=300)
    return target


def run_installed(installed: Path, cwd: Path, args: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    env.update(PYTHONPATH=str(installed), YIZHAN_INSTANCE_PATH=str(cwd / "instance"))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_wheel_holds_the_bundled_data(installed):
    for name in ("counties.geojson", "stations.geojson", "README.md", "__init__.py"):
        assert (installed / "geodata" / name).is_file(), name
    assert (installed / "yizhan" / "cli.py").is_file() and (installed / "web" / "templates").is_dir()
    assert not (installed / "stations" / "cli.py").exists()
    for lang in ("zh", "en"):  # the string catalogue, read as a package resource
        assert (installed / "stations" / "locale" / lang / "LC_MESSAGES" / "messages.po").is_file(), lang


@pytest.mark.slow
def test_the_installed_command_answers_from_the_bundled_data_outside_the_source_tree(installed, tmp_path):
    result = run_installed(installed, tmp_path, [str(installed / "bin" / "yizhan"), "nearest", "--lat", "35.41",
                                                 "--lon", "116.59", "--json"])
    assert result.returncode == 0, result.stderr[-2000:]
    hits = json.loads(result.stdout)["results"]
    bundled = json.loads((ROOT / "geodata" / "stations.geojson").read_text(encoding="utf-8"))
    ids = {f["properties"]["id"] for f in bundled["features"]}
    assert len(hits) == 5 and all(h["id"] in ids for h in hits)
    store = tmp_path / "instance" / "stations.geojson"  # the live store: a copy, not the installed file
    assert store.read_bytes() == (installed / "geodata" / "stations.geojson").read_bytes()
    assert "created the station store" in result.stderr


@pytest.mark.slow
def test_the_installed_app_serves_the_bundled_data_outside_the_source_tree(installed, tmp_path):
    result = run_installed(installed, tmp_path, [sys.executable, "-c", PROBE])
    assert result.returncode == 0, result.stderr[-2000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    for path in probe["modules"]:
        assert Path(path).is_relative_to(installed), path  # not the source tree
    config = probe["config"]
    assert config["INSTANCE_PATH"] == str(tmp_path / "instance")
    assert config["STATIONS_PATH"] == str(tmp_path / "instance" / "stations.geojson")
    assert Path(config["COUNTIES_PATH"]) == installed / "geodata" / "counties.geojson"  # read in place
    assert probe["health"] == 200 and probe["page"] == 200
    assert probe["stations"] > 0 and probe["counties"] == 11


@pytest.mark.slow
def test_the_installed_command_migrates_the_accounts_database_and_adds_a_user(installed, tmp_path):
    assert (installed / "web" / "db" / "migrations" / "versions" / "0001_accounts.py").is_file()
    yizhan = str(installed / "bin" / "yizhan")
    upgraded = run_installed(installed, tmp_path, [yizhan, "db", "upgrade"])
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    assert (tmp_path / "instance" / "yizhan.sqlite3").is_file() and "at migration 0001" in upgraded.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    env.update(PYTHONPATH=str(installed), YIZHAN_INSTANCE_PATH=str(tmp_path / "instance"))
    added = subprocess.run([yizhan, "user", "add", "admin", "--role", "admin", "--password-stdin"], cwd=tmp_path,
                           env=env, input="a long enough password\n", capture_output=True, text=True, timeout=120)
    assert added.returncode == 0 and "added admin" in added.stdout, added.stderr[-2000:]
