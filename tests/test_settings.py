"""Settings declared once (``web.settings``): parsed and checked at start-up, the README's table generated.

Also the data files a start needs: a missing or unreadable store is a start-up error naming the
path, and the default store is created in the instance folder from the bundled sample.
"""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from web import create_app
from web.settings import BASEMAP_NAMES, SETTINGS, SettingError, markdown_table, resolve

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_STATIONS = ROOT / "geodata" / "stations.geojson"


@pytest.fixture(autouse=True)
def no_yizhan_environment(monkeypatch):
    """The tests set the variables they need; none leaks in from the shell."""
    for key in list(os.environ):
        if key.startswith("YIZHAN_"):
            monkeypatch.delenv(key)


# ---- the table and the README ---------------------------------------------------------------------

def readme_configuration_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration\n"):]
    section = section[:section.index("\n## ", 1)]
    lines = section.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return "\n".join(table) + "\n"


def test_the_readme_holds_exactly_the_generated_table():
    assert readme_configuration_table() == markdown_table(), "run: python scripts/settings_table.py"


def test_the_script_prints_the_table():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_table.py")], capture_output=True,
                         text=True, check=True, cwd="/")
    assert out.stdout == markdown_table()


def test_every_setting_has_a_name_a_meaning_and_a_parsable_default():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for s in SETTINGS:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", s.name) and s.env == "YIZHAN_" + s.name
        assert s.meaning and s.parse.allowed
    for name, value in resolve({}, environ={}).values.items():
        assert resolve({name: value}, environ={})[name] == value  # a default is a valid value


def test_basemaps_are_the_same_everywhere():
    from web import maps, security

    assert set(maps.BASEMAPS) == set(security.BASEMAP_TILE_HOSTS) == set(BASEMAP_NAMES)


# ---- parsing --------------------------------------------------------------------------------------

def test_every_setting_reaches_app_config_parsed(app):
    for s in SETTINGS:
        assert s.name in app.config, s.name
    assert app.config["MAX_URL_LENGTH"] == 4096 and app.config["RATELIMIT_ENABLED"] is True
    assert app.config["TRUSTED_HOSTS"] is None  # checked, then kept by web.hosts (see its docstring)
    assert app.extensions["yizhan.trusted_hosts"] == ["localhost", "127.0.0.1", "[::1]"]


def test_environment_values_are_parsed_by_type(monkeypatch, app_config):
    env = {
        "YIZHAN_MAX_URL_LENGTH": "5000", "YIZHAN_RATELIMIT_ENABLED": "off", "YIZHAN_COVERAGE_TIME_BUDGET_S": "2.5",
        "YIZHAN_EMBED_ALLOWED_ORIGINS": "https://a.example.cn, https://b.example.cn",
        "YIZHAN_TILE_HOSTS": '["https://t0.example.cn", "https://t1.example.cn"]',
        "YIZHAN_CSP_EXTRA": '{"report-uri": "/csp-report"}', "YIZHAN_BASEMAP": "AMAP",
        "YIZHAN_PUBLIC_URL": "https://yizhan.example.cn/", "YIZHAN_TIANDITU_KEY": "",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = create_app(app_config).config
    assert config["MAX_URL_LENGTH"] == 5000 and config["RATELIMIT_ENABLED"] is False
    assert config["COVERAGE_TIME_BUDGET_S"] == 2.5
    assert config["EMBED_ALLOWED_ORIGINS"] == ["https://a.example.cn", "https://b.example.cn"]
    assert config["TILE_HOSTS"] == ["https://t0.example.cn", "https://t1.example.cn"]
    assert config["CSP_EXTRA"] == {"report-uri": ["/csp-report"]}
    assert config["BASEMAP"] == "amap" and config["PUBLIC_URL"] == "https://yizhan.example.cn"
    assert config["TIANDITU_KEY"] == ""  # an empty variable counts as not set


def test_config_wins_over_the_environment(monkeypatch, app_config):
    monkeypatch.setenv("YIZHAN_MAX_URL_LENGTH", "5000")
    assert create_app({**app_config, "MAX_URL_LENGTH": 3000}).config["MAX_URL_LENGTH"] == 3000
    resolved = resolve({"MAX_URL_LENGTH": 3000})
    assert resolved.origins["MAX_URL_LENGTH"] == "config" and resolved.origins["BASEMAP"] == "default"


@pytest.mark.parametrize("name, value, allowed", [
    ("MAX_URL_LENGTH", "lots", "a whole number from 256 to 8,170"),
    ("MAP_REMOTE_MIN_ZOOM", True, "a whole number from 0 to 19"),
    ("RATELIMIT_ENABLED", "maybe", "true or false"),
    ("BASEMAP", "google", "osm, tianditu, amap, none"),
    ("EMBED_ALLOWED_ORIGINS", '["unclosed', "a list"),
    ("CSP_EXTRA", '["not", "an object"]', "a JSON object"),
    ("PUBLIC_URL", "ftp://yizhan.example.cn", "an http/https URL"),
    ("COVERAGE_RATE_LIMIT", "fast", "a rate such as 20/minute"),
    ("TILE_URL", "/t/{{z}}/{x}/{y}.png", "text without '{{'"),
    ("DEFAULT_LANG", "fr", "zh, en"),
])
def test_a_bad_value_stops_the_start_naming_setting_value_and_what_is_allowed(app_config, name, value, allowed):
    with pytest.raises(SettingError) as info:
        create_app({**app_config, name: value})
    message = str(info.value)
    assert message.startswith(f"{name}={value!r} ") and f"allowed: {allowed}" in message, message
    assert info.value.name == name and info.value.value == value


def test_a_bad_environment_value_names_the_variable(monkeypatch, app_config):
    monkeypatch.setenv("YIZHAN_COVERAGE_WORKERS", "many")
    with pytest.raises(SettingError, match=r"COVERAGE_WORKERS='many' \(from the environment variable "
                                           r"YIZHAN_COVERAGE_WORKERS\) is not allowed; allowed: a whole number"):
        create_app(app_config)


def test_an_unknown_yizhan_variable_is_logged_and_passed_to_flask(monkeypatch, app_config, caplog):
    monkeypatch.setenv("YIZHAN_STATIONS_PAHT", "/typo.geojson")
    monkeypatch.setenv("YIZHAN_SESSION_COOKIE_SECURE", "true")
    with caplog.at_level(logging.WARNING, logger="web.settings"):
        app = create_app(app_config)
    assert "YIZHAN_STATIONS_PAHT is not a Yizhan setting" in caplog.text
    assert app.config["SESSION_COOKIE_SECURE"] is True  # JSON-decoded, as Flask's from_prefixed_env


# ---- data files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["STATIONS_PATH", "COUNTIES_PATH"])
def test_a_missing_data_file_is_a_start_up_error_naming_the_path(app_config, tmp_path, name):
    missing = tmp_path / "mistyped" / "stations.geojson"
    with pytest.raises(SettingError) as info:
        create_app({**app_config, name: str(missing)})
    assert str(info.value).startswith(f"{name}={str(missing)!r} does not exist; allowed: an existing, readable file")


@pytest.mark.parametrize("name", ["STATIONS_PATH", "COUNTIES_PATH"])
def test_a_data_path_that_is_a_directory_is_a_start_up_error(app_config, tmp_path, name):
    with pytest.raises(SettingError, match=f"{name}=.* is not a file"):
        create_app({**app_config, name: str(tmp_path)})


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
@pytest.mark.parametrize("name", ["STATIONS_PATH", "COUNTIES_PATH"])
def test_an_unreadable_data_file_is_a_start_up_error(app_config, name):
    path = Path(app_config[name])
    path.chmod(0)
    try:
        with pytest.raises(SettingError, match=f"{name}=.* cannot be read"):
            create_app(app_config)
    finally:
        path.chmod(0o644)


def test_an_unreadable_data_file_is_a_start_up_error_whoever_runs_it(app_config, monkeypatch):
    import builtins

    real_open = builtins.open

    def refusing_open(file, *args, **kwargs):
        if str(file) == app_config["STATIONS_PATH"]:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    with pytest.raises(SettingError, match=r"STATIONS_PATH=.* cannot be read \(Permission denied\)"):
        create_app(app_config)


def test_a_mistyped_environment_path_is_named_with_its_variable(monkeypatch, app_config, tmp_path):
    monkeypatch.setenv("YIZHAN_STATIONS_PATH", str(tmp_path / "stations.geojsn"))
    config = {k: v for k, v in app_config.items() if k != "STATIONS_PATH"}
    with pytest.raises(SettingError, match=r"\(from the environment variable YIZHAN_STATIONS_PATH\) does not exist"):
        create_app(config)


def test_the_default_store_is_created_in_the_instance_folder_from_the_bundled_sample(tmp_path, caplog):
    instance = tmp_path / "instance"
    config = {"INSTANCE_PATH": str(instance), "TESTING": True}
    with caplog.at_level(logging.WARNING, logger="web.datafiles"):
        app = create_app(config)
    store_file = instance / "stations.geojson"
    assert app.instance_path == str(instance) and app.config["STATIONS_PATH"] == str(store_file)
    assert store_file.read_bytes() == BUNDLED_STATIONS.read_bytes()
    assert f"created the station store {store_file} from the bundled sample" in caplog.text
    bundled = json.loads(BUNDLED_STATIONS.read_text(encoding="utf-8"))
    assert Path(app.config["COUNTIES_PATH"]).name == "counties.geojson"
    assert app.test_client().get("/api/health").status_code == 200

    with app.app_context():  # the live store is the copy, its journal beside it; the bundled file is untouched
        from web.state import state
        assert len(state().store.all()) == len(bundled["features"])
        first = bundled["features"][0]["properties"]["id"]
        state().store.update(first, {"name": "改名驿站"}, who="test")
    assert (instance / "journal.jsonl").exists()
    assert store_file.read_bytes() != BUNDLED_STATIONS.read_bytes()
    caplog.clear()
    again = create_app(config)  # a second start keeps the live store
    assert "改名驿站" in store_file.read_text(encoding="utf-8") and "created the station store" not in caplog.text
    assert again.config["STATIONS_PATH"] == str(store_file)


def test_the_instance_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("YIZHAN_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app({"TESTING": True})
    assert app.instance_path == str(tmp_path / "inst") and (tmp_path / "inst" / "stations.geojson").is_file()


def test_relative_paths_are_made_absolute(monkeypatch, tmp_path, stations_path, counties_path):
    monkeypatch.chdir(tmp_path)
    app = create_app({"STATIONS_PATH": stations_path.name, "COUNTIES_PATH": counties_path.name, "TESTING": True})
    assert app.config["STATIONS_PATH"] == str(stations_path) and app.config["COUNTIES_PATH"] == str(counties_path)


# ---- one reader of settings -----------------------------------------------------------------------

def test_no_module_reads_yizhan_variables_but_the_settings():
    pattern = re.compile(r"""environ(\.get)?\s*[\[(]\s*f?["']YIZHAN_|from_prefixed_env|getenv\(\s*["']YIZHAN_""")
    offenders = []
    for package in ("web", "stations", "yizhan", "geodata"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "settings.py" and pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# ---- where the stations live ----------------------------------------------------------------------

def test_the_store_is_the_stations_file_unless_store_url_names_another_or_a_database(app_config, tmp_path):
    from web.settings import resolve

    assert create_app(app_config).config["STORE_URL"] == app_config["STATIONS_PATH"]
    given = {
        f"geojson:{app_config['STATIONS_PATH']}": app_config["STATIONS_PATH"],
        "postgresql+psycopg://yizhan:secret@db.example.cn/yizhan?schema=stations":
            "postgresql+psycopg://yizhan:secret@db.example.cn/yizhan?schema=stations",
        "postgis://db.example.cn/yizhan": "postgis://db.example.cn/yizhan",
    }
    for value, parsed in given.items():
        assert resolve({**app_config, "STORE_URL": value})["STORE_URL"] == parsed
    for bad in ("ftp://example.cn/stations.geojson", "postgresql://yizhan:secret@db.example.cn/yizhan?schema=1x", ""):
        with pytest.raises(SettingError, match="STORE_URL") as excinfo:
            resolve({**app_config, "STORE_URL": bad})
        assert "secret" not in str(excinfo.value)
    with pytest.raises(SettingError, match=r"STORE_URL=.* does not exist"):
        create_app({**app_config, "STORE_URL": str(tmp_path / "missing.geojson")})
