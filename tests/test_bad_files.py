"""A stations file that cannot be used (not UTF-8, a directory, huge values) through the CLI and the web.

Every answer names the file and what is wrong, shows no traceback and stays short; a bad file is
read once per version, not on every request.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from yizhan.cli import main
from conftest import STATION_FEATURES

LONG = 500_000
MAX_OUTPUT = 3000  # characters: a few lines, never the whole value


def write_gbk(path: Path) -> None:
    collection = {"type": "FeatureCollection", "features": STATION_FEATURES}
    path.write_bytes(json.dumps(collection, ensure_ascii=False).encode("gb18030"))


def write_long_name(path: Path) -> None:
    features = json.loads(json.dumps(STATION_FEATURES))
    features[0]["properties"]["name"] = "驿" * LONG
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")


def write_refused_values(path: Path) -> None:
    """Values the vocabulary refuses since issues 9, 10, stored before it did: a vertical tab, a 401-digit count."""
    features = json.loads(json.dumps(STATION_FEATURES))
    features[0]["properties"]["address"] = "古槐路\x0b18号"
    features[1]["properties"]["beds"] = 10 ** 400
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")


def make_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


# ---- the command line ---------------------------------------------------------------------------

def cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("command", [
    ["validate", "{stations}"],
    ["nearest", "--lat", "35.4", "--lon", "116.6", "--stations", "{stations}"],
    ["coverage", "--stations", "{stations}"],
])
def test_cli_names_a_file_that_is_not_utf8(stations_path, counties_path, command):
    write_gbk(stations_path)
    args = [a.replace("{stations}", str(stations_path)) for a in command] + ["--counties", str(counties_path)]
    result = cli(*args)
    assert result.exit_code == 1, result.output[:MAX_OUTPUT]
    assert isinstance(result.exception, SystemExit)  # handled, not a crash
    assert str(stations_path) in result.output
    assert "not UTF-8" in result.output and "yizhan import" in result.output
    assert "Traceback" not in result.output and "UnicodeDecodeError" not in result.output
    printed = len(result.output)
    assert printed < MAX_OUTPUT


@pytest.mark.parametrize("command", [
    ["validate", "{stations}"],
    ["nearest", "--lat", "35.4", "--lon", "116.6", "--stations", "{stations}"],
])
def test_cli_names_a_directory_in_place_of_the_file(stations_path, counties_path, command):
    make_directory(stations_path)
    args = [a.replace("{stations}", str(stations_path)) for a in command] + ["--counties", str(counties_path)]
    result = cli(*args)
    assert result.exit_code != 0, result.output[:MAX_OUTPUT]
    assert isinstance(result.exception, SystemExit)
    assert str(stations_path) in result.output and "directory" in result.output
    printed = len(result.output)
    assert "Traceback" not in result.output and printed < MAX_OUTPUT


@pytest.mark.parametrize("command", [
    ["validate", "{stations}"],
    ["nearest", "--lat", "35.4", "--lon", "116.6", "--stations", "{stations}"],
])
def test_cli_quotes_a_huge_name_briefly(stations_path, counties_path, command):
    write_long_name(stations_path)
    args = [a.replace("{stations}", str(stations_path)) for a in command] + ["--counties", str(counties_path)]
    result = cli(*args)
    printed = len(result.output)
    assert printed < MAX_OUTPUT
    assert result.exit_code == 1, result.output
    assert "JN-RS-0001" in result.output and "'name'" in result.output
    assert f"{LONG} characters" in result.output


def test_cli_names_each_stored_value_the_vocabulary_refuses(stations_path, counties_path):
    write_refused_values(stations_path)
    result = cli("validate", str(stations_path), "--counties", str(counties_path))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output  # handled, not a crash
    assert len(result.output) < MAX_OUTPUT
    lines = result.output.splitlines()
    address = next(line for line in lines if "'address'" in line)
    assert "JN-RS-0001" in address and "\\x0b" in address and "without control characters" in address
    beds = next(line for line in lines if "'beds'" in line)
    assert STATION_FEATURES[1]["properties"]["id"] in beds and "401 characters" in beds
    assert "from 0 to 100,000" in beds


# ---- the web ------------------------------------------------------------------------------------

def assert_logged_briefly_without_traceback(caplog, *must_contain: str) -> None:
    logged = len(caplog.text)
    assert logged < MAX_OUTPUT * 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the failure was not logged"
    assert not any(r.exc_info or r.exc_text for r in caplog.records)
    assert "Traceback" not in caplog.text
    for text in must_contain:
        assert text in caplog.text


BAD_FILES = {"gbk": write_gbk, "directory": make_directory, "long name": write_long_name,
             "refused values": write_refused_values}


@pytest.mark.parametrize("bad", list(BAD_FILES))
def test_web_answers_500_saying_the_data_could_not_be_read(client, stations_path, caplog, bad):
    BAD_FILES[bad](stations_path)
    caplog.set_level(logging.INFO)
    api = client.get("/api/stations")
    assert api.status_code == 500 and api.is_json
    assert "could not be read" in api.get_json()["error"]["message"]
    assert str(stations_path) not in api.get_data(as_text=True)  # the path is for the log, not the public
    page = client.get("/")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "could not be read" in page.get_data(as_text=True)
    answered = len(api.get_data())
    assert answered < MAX_OUTPUT
    assert_logged_briefly_without_traceback(caplog, str(stations_path))


def test_web_log_says_the_file_is_not_utf8(client, stations_path, caplog):
    write_gbk(stations_path)
    client.get("/api/stations")
    assert_logged_briefly_without_traceback(caplog, str(stations_path), "not UTF-8")


def test_web_reads_a_bad_file_once_per_version(client, stations_path, monkeypatch):
    from stations.store import geojson as store_module  # where the file backend reads

    reads = []
    real = store_module.decode_stations_bytes  # every read of the file's text goes through it
    monkeypatch.setattr(store_module, "decode_stations_bytes", lambda data, where: reads.append(where) or real(data, where))
    write_gbk(stations_path)
    for url in ("/api/stations", "/api/nearest?lat=35.4&lon=116.6", "/", "/api/stations"):
        assert client.get(url).status_code == 500
    assert len(reads) == 1
    collection = {"type": "FeatureCollection", "features": STATION_FEATURES}
    stations_path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    response = client.get("/api/stations")
    assert response.status_code == 200 and len(response.get_json()["features"]) == len(STATION_FEATURES)
    assert len(reads) == 2


@pytest.mark.parametrize("url, status", [("/api/nearest?lon=116.6&lat=", 400), ("/list?lon=116.6&lat=", 400),
                                         ("/stations/JN-RS-", 404), ("/api/stations/JN-RS-", 404)])
def test_a_long_parameter_is_not_echoed_whole(client, caplog, url, status):
    response = client.get(url + "9" * 100 + "x" * 3000)  # within the URL length limit
    assert response.status_code == status
    body = response.get_data(as_text=True)
    size, echoed, logged = len(body), "x" * 1000 in body, "x" * 1000 in caplog.text
    assert size < 20_000 and not echoed and not logged


def test_cli_names_a_counties_file_that_is_not_utf8(stations_path, counties_path):
    counties_path.write_bytes(counties_path.read_text(encoding="utf-8").encode("gb18030"))
    result = cli("validate", str(stations_path), "--counties", str(counties_path))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert str(counties_path) in result.output and "not UTF-8" in result.output
    assert "Traceback" not in result.output
