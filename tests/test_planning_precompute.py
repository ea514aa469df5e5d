"""The planner's default view computed ahead (per store version), and the last figures shown with their age.

Analyses run in threads here (``COVERAGE_EXECUTOR=thread``) so that a test can hold one back: the
page then answers at once with the last figures and says how old they are, instead of a 503.
"""
from __future__ import annotations

import threading
import time

import pytest

from web.planning import precompute
from web.planning import routes as planning_routes


@pytest.fixture
def app_config(app_config):
    return {**app_config, "COVERAGE_EXECUTOR": "thread", "RATELIMIT_ENABLED": False, "COVERAGE_TIME_BUDGET_S": 1}


def _wait(check, within_s: float = 20.0):
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "not done in time"
        time.sleep(0.02)


def _default_key(app):
    with app.test_request_context():
        return planning_routes.coverage_key(precompute.default_query())


def _ready(app) -> bool:
    with app.app_context():
        return app.extensions["yizhan"].peek(_default_key(app)) is not None


def _rename(app, name: str) -> None:
    with app.app_context():
        app.extensions["yizhan"].store.update("JN-RS-0001", {"name": name})


@pytest.fixture
def held(monkeypatch):
    """Analyses wait until ``held.set()``."""
    gate = threading.Event()
    real = planning_routes.run_coverage

    def slow(job):
        assert gate.wait(30)
        return real(job)

    monkeypatch.setattr(planning_routes, "run_coverage", slow)
    monkeypatch.setattr(precompute, "run_coverage", slow)
    yield gate
    gate.set()


def test_while_new_figures_are_computed_the_page_shows_the_last_ones_with_their_age(app, client, held):
    held.set()
    first = client.get("/planning")
    assert first.status_code == 200 and "正在重新计算" not in first.get_data(as_text=True)
    held.clear()
    _rename(app, "改名驿站")  # a new store version: its figures are not there yet
    started = time.monotonic()
    page = client.get("/planning")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and time.monotonic() - started < 5
    assert "数据更新于 不到 1 分钟前，正在重新计算" in text
    english = client.get("/planning?lang=en").get_data(as_text=True)
    assert "less than a minute ago" in english and "computed again" in english
    assert client.get("/api/coverage").status_code == 503  # the API gives the current version's or waits
    held.set()
    _wait(lambda: "正在重新计算" not in client.get("/planning").get_data(as_text=True))


def test_without_earlier_figures_the_page_still_answers_503(client, held):
    answer = client.get("/planning")
    assert answer.status_code == 503 and answer.headers["Retry-After"]


def test_the_age_is_told_in_minutes_and_hours(app):
    with app.test_request_context("/planning"):
        from flask import g

        g.coverage_stale = time.time() - 5 * 60 - 3
        assert precompute.stale_notice() == "数据更新于 5 分钟前，正在重新计算；稍后刷新本页即可看到新的结果。"
        g.coverage_stale = time.time() - 3 * 3600
        assert precompute.stale_notice().startswith("数据更新于 3 小时前")


def test_a_serving_process_computes_the_default_view_when_the_store_changes(app, client):
    assert not _ready(app)
    client.get("/api/nearest?lat=35.41&lon=116.59")
    assert not _ready(app)  # not a server (tests, the command line): nothing in the background
    app.extensions["yizhan"].serving = True
    _rename(app, "新名字驿站")
    client.get("/api/nearest?lat=35.41&lon=116.59")  # the first request that sees the new version
    _wait(lambda: _ready(app))


def test_changes_within_the_interval_are_computed_when_it_ends(app, client):
    app.config["COVERAGE_PRECOMPUTE_S"] = 0.5
    app.extensions["yizhan"].serving = True
    client.get("/api/nearest?lat=35.41&lon=116.59")
    _wait(lambda: _ready(app))
    _rename(app, "又一个名字")
    client.get("/api/nearest?lat=35.41&lon=116.59")  # within the interval: a timer, not at once
    _wait(lambda: _ready(app), within_s=10)
    with app.app_context():
        kept = app.extensions["yizhan"].last(_default_key(app))
        assert kept.version == app.extensions["yizhan"].store.version


def test_precomputing_can_be_switched_off(app, client):
    app.config["COVERAGE_PRECOMPUTE_S"] = 0
    app.extensions["yizhan"].serving = True
    client.get("/api/nearest?lat=35.41&lon=116.59")
    time.sleep(0.3)  # (nothing to wait for: checking that nothing started)
    assert not _ready(app) and "yizhan.precompute" not in app.extensions


def test_warm_up_starts_the_default_view_of_a_served_store(app, monkeypatch):
    import gc

    from web.state import warm_up

    monkeypatch.setattr(gc, "freeze", lambda: None)  # not in the test process
    warm_up(app)
    assert app.extensions["yizhan"].serving
    _wait(lambda: _ready(app))


# ---- the answers shared through the instance folder (web.coverage_files) ---------------------------

@pytest.fixture
def served(app_config, tmp_path):
    """Apps of one server (its workers, or its next start): serving processes over one instance folder."""
    from web import create_app

    def make():
        app = create_app({**app_config, "INSTANCE_PATH": str(tmp_path / "instance"), "COVERAGE_PRECOMPUTE_S": 0})
        app.extensions["yizhan"].serving = True
        return app
    return make


def _counting(monkeypatch):
    runs = []
    real = planning_routes.run_coverage

    def counted(job):
        runs.append(job)
        return real(job)

    monkeypatch.setattr(planning_routes, "run_coverage", counted)
    return runs


def _layers(html: str) -> dict:
    import json

    return json.loads(html.split('id="yz-planning-data">', 1)[1].split("</script>", 1)[0])


def _table(html: str) -> str:
    return html.split('id="county-table"', 1)[1].split("</table>", 1)[0]


def test_a_second_worker_over_the_same_instance_folder_serves_the_figures_without_computing(served, monkeypatch):
    from pathlib import Path

    runs = _counting(monkeypatch)
    one = served().test_client()
    first = one.get("/planning")
    assert first.status_code == 200 and len(runs) == 1
    assert len(list(Path(runs[0].cache_dir).glob("*.pickle"))) == 1
    second = served().test_client()  # another worker, or the same server after a restart
    again = second.get("/planning")
    assert again.status_code == 200 and len(runs) == 1  # read from the file, not computed again
    html = again.get_data(as_text=True)
    assert _table(html) == _table(first.get_data(as_text=True)) and "正在重新计算" not in html
    layers, before = _layers(html), _layers(first.get_data(as_text=True))
    assert layers["gaps"]["features"] and layers["gaps"] == before["gaps"]  # the city's gaps, from their file
    assert layers["counties"] == before["counties"]
    gaps = second.get("/api/coverage/gaps?radius_m=1000")
    assert gaps.status_code == 200 and gaps.get_json()["features"]
    assert gaps.get_json() == one.get("/api/coverage/gaps?radius_m=1000").get_json()


def test_after_a_restart_and_a_change_the_page_shows_the_files_figures_with_their_age(served, monkeypatch, held):
    import os
    from pathlib import Path

    held.set()
    runs = _counting(monkeypatch)
    app = served()
    assert app.test_client().get("/planning").status_code == 200 and len(runs) == 1
    files = list(Path(runs[0].cache_dir).glob("*.pickle"))
    hour_ago = time.time() - 3 * 3600
    os.utime(files[0], (hour_ago, hour_ago))  # computed three hours ago
    _rename(app, "重启后改名驿站")
    held.clear()  # the new version's analysis does not end
    restarted = served().test_client()
    html = restarted.get("/planning").get_data(as_text=True)
    assert "数据更新于 3 小时前，正在重新计算" in html
    held.set()
    _wait(lambda: "正在重新计算" not in restarted.get("/planning").get_data(as_text=True))
    assert len(runs) == 2 and len(list(Path(runs[0].cache_dir).glob("*.pickle"))) == 2
