"""Without a reachable PostgreSQL the database tests are skipped saying why, also under ``make test``'s
``pytest -q`` (no ``-rs``); with ``YIZHAN_TEST_REQUIRE_POSTGIS=1`` they fail instead."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    with socket.socket() as s:  # bound, then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_postgis_tests(**env) -> subprocess.CompletedProcess:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_TEST_")}
    environ.update(YIZHAN_TEST_DATABASE_URL=url, PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_nearest_postgis.py"], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=120)


def test_unreachable_postgresql_skips_its_tests_with_the_reason_in_the_quiet_summary():
    done = _run_postgis_tests()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout and "passed" not in done.stdout
    assert "skipped, and why" in done.stdout
    assert "2 skipped: no PostgreSQL reachable at postgresql+psycopg://postgres@127.0.0.1:" in done.stdout
    assert "set YIZHAN_TEST_DATABASE_URL to a database with PostGIS" in done.stdout


def test_unreachable_postgresql_fails_the_tests_where_postgis_is_required():
    done = _run_postgis_tests(YIZHAN_TEST_REQUIRE_POSTGIS="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 errors" in done.stdout and "skipped" not in done.stdout  # failed in the fixture that needs it
    assert "YIZHAN_TEST_REQUIRE_POSTGIS is set but no PostgreSQL reachable" in done.stdout
