"""The `yizhan` command line."""
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from geographiclib.geodesic import Geodesic

from yizhan.cli import main

ROOT = Path(__file__).resolve().parent.parent
STATIONS = ROOT / "geodata" / "stations.geojson"
COUNTIES = ROOT / "geodata" / "counties.geojson"


def brute_force_nearest(lat, lon, k, only_24_7=False):
    """Independent: geographiclib over every open station in the bundled file."""
    data = json.loads(STATIONS.read_text(encoding="utf-8"))
    rows = []
    for f in data["features"]:
        if f["properties"]["status"] != "open":
            continue
        if only_24_7 and f["properties"].get("opening_hours") != "24/7":  # the file writes it so
            continue
        slon, slat = f["geometry"]["coordinates"]
        rows.append((Geodesic.WGS84.Inverse(lat, lon, slat, slon)["s12"], f["properties"]["id"]))
    return sorted(rows)[:k]


def test_nearest_json_shape_and_results():
    result = CliRunner().invoke(main, ["nearest", "--lat", "35.41", "--lon", "116.59", "-k", "5", "--json",
                                       "--stations", str(STATIONS), "--counties", str(COUNTIES)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["query"] == {"lat": 35.41, "lon": 116.59}
    expected = brute_force_nearest(35.41, 116.59, 5)
    assert [r["id"] for r in payload["results"]] == [i for _, i in expected]
    for r, (d, _) in zip(payload["results"], expected):
        assert abs(r["distance_m"] - d) < 0.1
        assert set(r) == {"id", "name", "kind", "lon", "lat", "distance_m", "county_code", "status",
                          "amenities", "opening_hours"}


def test_nearest_open_24_7():
    result = CliRunner().invoke(main, ["nearest", "--lat", "35.41", "--lon", "116.59", "-k", "8", "--json",
                                       "--open-24-7", "--stations", str(STATIONS), "--counties", str(COUNTIES)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    expected = brute_force_nearest(35.41, 116.59, 8, only_24_7=True)
    assert len(expected) == 8
    assert [r["id"] for r in payload["results"]] == [i for _, i in expected]
    assert all(r["opening_hours"] == "24/7" for r in payload["results"])


def test_nearest_text_and_bad_input():
    runner = CliRunner()
    ok = runner.invoke(main, ["nearest", "--lat", "35.41", "--lon", "116.59", "-k", "2", "--stations", str(STATIONS)])
    assert ok.exit_code == 0 and ok.output.startswith("1.")
    bad = runner.invoke(main, ["nearest", "--lat", "135.41", "--lon", "116.59", "--stations", str(STATIONS)])
    assert bad.exit_code == 1 and "135.41" in bad.output
    bad_kind = runner.invoke(main, ["nearest", "--lat", "35", "--lon", "116", "--kind", "spa"])
    assert bad_kind.exit_code == 2 and "spa" in bad_kind.output


def test_validate_lists_every_problem(tmp_path):
    data = json.loads(STATIONS.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["kind"] = "spa"
    data["features"][5]["properties"]["amenities"] = ["jacuzzi"]
    data["features"][9]["geometry"]["coordinates"] = [121.47, 31.23]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad), "--counties", str(COUNTIES)])
    assert result.exit_code == 1
    ids = [f["properties"]["id"] for f in data["features"]]
    assert "3 problem(s)" in result.output
    for i, field in ((0, "kind"), (5, "amenities"), (9, "geometry.coordinates")):
        assert f"{ids[i]}: field '{field}'" in result.output
    good = CliRunner().invoke(main, ["validate", str(STATIONS)])
    assert good.exit_code == 0, good.output


def test_sample_writes_a_valid_file(tmp_path):
    out = tmp_path / "s.geojson"
    result = CliRunner().invoke(main, ["sample", "--stations", str(out), "--counties", str(COUNTIES)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["features"] == json.loads(
        STATIONS.read_text(encoding="utf-8"))["features"]


def test_stations_path_from_environment(tmp_path, monkeypatch):
    copy = tmp_path / "copy.geojson"
    shutil.copy(STATIONS, copy)
    monkeypatch.setenv("YIZHAN_STATIONS_PATH", str(copy))
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0 and str(copy) in result.output


def test_the_store_comes_from_the_settings_and_is_created_from_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("YIZHAN_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("YIZHAN_STATIONS_PATH", raising=False)
    result = CliRunner().invoke(main, ["nearest", "--lat", "35.41", "--lon", "116.59", "-k", "1", "--json"])
    assert result.exit_code == 0, result.output
    store = tmp_path / "instance" / "stations.geojson"
    assert store.read_bytes() == STATIONS.read_bytes()
    assert json.loads(result.stdout)["results"][0]["id"] == brute_force_nearest(35.41, 116.59, 1)[0][1]
    validated = CliRunner().invoke(main, ["validate"])
    assert validated.exit_code == 0 and str(store) in validated.output


def test_a_bad_setting_stops_every_command_naming_it(tmp_path, monkeypatch):
    missing = tmp_path / "no-such.geojson"
    for args in (["nearest", "--lat", "35.41", "--lon", "116.59", "--stations", str(missing)],
                 ["coverage", "--stations", str(missing)],
                 ["serve", "--port", "1", "--stations", str(missing)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert f"STATIONS_PATH={str(missing)!r} does not exist" in result.output
    monkeypatch.setenv("YIZHAN_COVERAGE_WORKERS", "lots")
    result = CliRunner().invoke(main, ["validate", str(STATIONS)])
    assert result.exit_code == 1 and "YIZHAN_COVERAGE_WORKERS" in result.output and "'lots'" in result.output


def test_python_dash_m_yizhan_is_the_command(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "yizhan", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "nearest" in out.stdout and "serve" in out.stdout


def test_serve_runs_gunicorn_with_the_site_object_and_its_limits():
    from yizhan.server import SiteServer, gunicorn_options

    options = gunicorn_options("::1", 5099, workers=3, threads=6)
    assert options["bind"] == ["[::1]:5099"] and options["worker_class"] == "gthread" and options["threads"] == 6
    assert (options["limit_request_line"], options["limit_request_fields"], options["limit_request_field_size"]) \
        == (8190, 100, 8190)
    assert options["timeout"] == 30 and options["secure_scheme_headers"] == {}  # gunicorn's: workers start fast
    assert options["control_socket_disable"] is True  # a fixed per-user path two servers would share
    assert "threads" not in gunicorn_options("127.0.0.1", 1, worker_class="sync")
    server = SiteServer({"STATIONS_PATH": str(STATIONS), "COUNTIES_PATH": str(COUNTIES),
                         "INSTANCE_PATH": "/nonexistent"}, options)
    assert server.cfg.worker_class_str == "gthread" and server.cfg.forwarded_allow_ips == []
    app = server.load()  # what each worker runs: the object create_app builds
    assert app.config["STATIONS_PATH"] == str(STATIONS) and app.test_client().get("/api/health").status_code == 200
